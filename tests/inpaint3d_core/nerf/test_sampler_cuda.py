"""The occupancy sampler's density evaluation in bounded slices (the sampler itself needs CUDA:
tests/gpu/test_nerf_gpu.py)."""

from __future__ import annotations

import torch

from inpaint3d_core.nerf.sampler_cuda import chunked_density


def test_chunked_density_matches_one_call_and_bounds_the_batch():
    points = torch.randn(1000, 3)
    seen = []

    def density(x):
        seen.append(x.shape[0])
        return x.pow(2).sum(-1)

    out = chunked_density(density, points, chunk=300)
    assert torch.equal(out, points.pow(2).sum(-1))
    assert seen == [300, 300, 300, 100]

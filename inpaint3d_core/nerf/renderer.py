"""Volume rendering of rays through a field with nerfacc's `rendering` (packed or batched).

One function serves both samplers: nerfacc's batched form runs anywhere (the CPU path), its
packed form consumes the CUDA occupancy-grid samples. The output keeps the samples and weights
because the trainer's regularisers (free space in front of the target depth) need them.
"""

from __future__ import annotations

from dataclasses import dataclass

import nerfacc
import torch

from inpaint3d_core.nerf.field import RadianceField
from inpaint3d_core.nerf.samples import RaySamples, Sampler


@dataclass
class RenderOutput:
    rgb: torch.Tensor  # (R, 3)
    acc: torch.Tensor  # (R,) accumulated opacity
    distance: torch.Tensor  # (R,) expected distance along the unit ray, normalised by `acc`
    weights: torch.Tensor  # per sample, in the samples' layout
    samples: RaySamples

    def per_ray_sum(self, values: torch.Tensor) -> torch.Tensor:
        """Sum of `values * weights` over each ray's samples -> (R,)."""
        n_rays = self.rgb.shape[0]
        out = nerfacc.accumulate_along_rays(
            self.weights * values, None, self.samples.ray_indices, n_rays if self.samples.packed else None
        )
        return out[:, 0]


def render_rays(
    field: RadianceField,
    sampler: Sampler,
    origins: torch.Tensor,
    directions: torch.Tensor,
    near: torch.Tensor,
    far: torch.Tensor,
    view_ids: torch.Tensor | None = None,
    background: torch.Tensor | None = None,
    training: bool = False,
) -> RenderOutput:
    """Render unit rays (R, 3) between per-ray `near`/`far` (R,); `view_ids` (R,) pick appearance codes."""
    samples = sampler.sample(origins, directions, near, far, field.density, training=training)
    n_rays = origins.shape[0]

    def rgb_sigma_fn(t_starts, t_ends, ray_indices):
        chunk = RaySamples(t_starts, t_ends, ray_indices)
        points, dirs = chunk.positions(origins, directions)
        ids = None if view_ids is None else chunk.per_ray(view_ids)
        shape = points.shape[:-1]
        rgb, sigma = field(points.reshape(-1, 3), dirs.reshape(-1, 3), None if ids is None else ids.reshape(-1))
        return rgb.view(*shape, 3), sigma.view(shape)

    rgb, acc, distance, extras = nerfacc.rendering(
        samples.t_starts,
        samples.t_ends,
        samples.ray_indices,
        n_rays=n_rays if samples.packed else None,
        rgb_sigma_fn=rgb_sigma_fn,
        render_bkgd=background,
    )
    return RenderOutput(rgb=rgb, acc=acc[:, 0], distance=distance[:, 0], weights=extras["weights"], samples=samples)

import math

import torch

from inpaint3d_core.nerf.encoding import HashGridEncoding, spherical_harmonics


def test_dense_level_interpolates_its_vertices_exactly():
    enc = HashGridEncoding(levels=1, features_per_level=2, log2_table_size=12, base_resolution=8, max_resolution=8)
    assert enc.num_dense == 1
    with torch.no_grad():
        enc.table.normal_()
    stride = 9
    vertex = torch.tensor([3, 5, 2])
    flat = int(vertex[0] + stride * (vertex[1] + stride * vertex[2]))
    x = (vertex.float() / 8)[None]
    assert torch.allclose(enc(x)[0], enc.table[flat], atol=1e-5)
    # halfway to the +x neighbour: the mean of the two vertices
    mid = ((vertex.float() + torch.tensor([0.5, 0, 0])) / 8)[None]
    assert torch.allclose(enc(mid)[0], 0.5 * (enc.table[flat] + enc.table[flat + 1]), atol=1e-5)


def test_hashed_levels_weights_sum_to_one_and_gradients_reach_table():
    enc = HashGridEncoding(levels=4, features_per_level=2, log2_table_size=10, base_resolution=16, max_resolution=256)
    assert enc.num_dense < enc.levels
    with torch.no_grad():
        enc.table.fill_(1.0)
    x = torch.rand(500, 3)
    out = enc(x)
    assert out.shape == (500, 8)
    assert torch.allclose(out, torch.ones_like(out), atol=1e-5)
    out.sum().backward()
    assert enc.table.grad.abs().sum() > 0


def test_spherical_harmonics_are_orthonormal():
    torch.manual_seed(0)
    d = torch.nn.functional.normalize(torch.randn(200_000, 3), dim=-1)
    basis = spherical_harmonics(d, degree=4)
    assert basis.shape == (200_000, 16)
    gram = basis.T @ basis / d.shape[0] * 4 * math.pi
    assert torch.allclose(gram, torch.eye(16), atol=0.05)

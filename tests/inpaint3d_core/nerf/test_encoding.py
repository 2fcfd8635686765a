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


def _hashed_vertex_feature(enc: HashGridEncoding, level: int, vertex: torch.Tensor) -> torch.Tensor:
    """The table row of one vertex of a hashed level, hashed in Python's unbounded integers."""
    primes = (1, 2654435761, 805459861)
    h = 0
    for axis in range(3):
        h ^= int(vertex[axis]) * primes[axis]
    return enc.table[level * enc.table_size + (h & (enc.table_size - 1))]


def test_cpu_int32_hash_matches_the_unbounded_hash():
    """The CPU path hashes in int32 (primes wrapped modulo 2^32): at a vertex of a fine, hashed
    level it reads the row the textbook hash names."""
    enc = HashGridEncoding(levels=2, features_per_level=2, log2_table_size=8, base_resolution=64, max_resolution=1024)
    assert enc.num_dense == 0
    with torch.no_grad():
        enc.table.normal_()
    res = int(enc.resolutions[1])
    vertex = torch.tensor([res - 3, res // 2 + 1, 7])
    x = (vertex.double() / res).float()[None]
    with torch.no_grad():
        encoded = enc(x)[0, 2:4]
    assert torch.allclose(encoded, _hashed_vertex_feature(enc, 1, vertex), atol=1e-4)


def test_no_grad_encoding_equals_the_differentiable_one():
    """Rendering (no gradients) takes the fused embedding_bag path on the CPU: same features."""
    enc = HashGridEncoding(levels=16, features_per_level=2, log2_table_size=14, base_resolution=16, max_resolution=2048)
    with torch.no_grad():
        enc.table.normal_()
    x = torch.rand(2000, 3)
    with torch.no_grad():
        fused = enc(x)
    plain = enc(x)
    assert plain.requires_grad and not fused.requires_grad
    assert torch.allclose(fused, plain.detach(), atol=1e-5)


def test_cpu_dense_levels_by_grid_sample_equal_the_corner_gather():
    """On the CPU dense levels are sampled as volumes (grid_sample): same features and the same
    table gradient as gathering their 8 corners, which the GPU path does (run here on the CPU)."""
    enc = HashGridEncoding(levels=6, features_per_level=2, log2_table_size=12, base_resolution=4, max_resolution=128)
    assert 0 < enc.num_dense < enc.levels
    with torch.no_grad():
        enc.table.normal_()
    x = torch.rand(3000, 3)
    x[:5] = torch.tensor([0.0, 1.0, 0.5])  # the volume's faces
    weights = torch.randn(3000, enc.output_dim)
    volumes = enc(x)
    (volumes * weights).sum().backward()
    grad_volumes, enc.table.grad = enc.table.grad.clone(), None
    corners = enc._corner_features(x.clamp(0.0, 1.0 - 1e-6))
    (corners * weights).sum().backward()
    assert torch.allclose(volumes, corners, atol=1e-5)
    assert torch.allclose(grad_volumes, enc.table.grad, atol=1e-4)


def test_cpu_corner_layout_equals_the_gpu_layout():
    """The CPU's samples-innermost int32 layout of the hashed levels and the GPU's samples-outer
    int64 one (run here on the CPU): same features and table gradients, with and without
    gradients."""
    enc = HashGridEncoding(levels=8, features_per_level=2, log2_table_size=12, base_resolution=4, max_resolution=512)
    assert 0 < enc.num_dense < enc.levels
    with torch.no_grad():
        enc.table.normal_()
    x = torch.rand(4000, 3).clamp(0.0, 1.0 - 1e-6)
    hashed = slice(enc.num_dense * enc.features_per_level, None)
    weights = torch.randn(4000, (enc.levels - enc.num_dense) * enc.features_per_level)
    grads = []
    for features in (enc._hashed_features_cpu, lambda points: enc._corner_features(points)[:, hashed]):
        enc.table.grad = None
        out = features(x)
        (out * weights).sum().backward()
        grads.append((out.detach(), enc.table.grad.clone()))
        with torch.no_grad():
            assert torch.allclose(features(x), out, atol=1e-5)
    assert torch.allclose(grads[0][0], grads[1][0], atol=1e-5)
    assert torch.allclose(grads[0][1], grads[1][1], atol=1e-4)

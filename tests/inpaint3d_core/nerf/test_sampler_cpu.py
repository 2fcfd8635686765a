import torch

from inpaint3d_core.nerf.sampler_cpu import StratifiedResampler, inverse_cdf


def test_intervals_are_contiguous_sorted_and_within_bounds():
    torch.manual_seed(0)
    sampler = StratifiedResampler(num_coarse=16, num_fine=8)
    o = torch.zeros(10, 3)
    d = torch.nn.functional.normalize(torch.randn(10, 3), dim=-1)
    near, far = torch.full((10,), 0.2), torch.full((10,), 3.0)
    s = sampler.sample(o, d, near, far, lambda x: torch.ones(x.shape[0]), training=True)
    assert s.t_starts.shape == (10, 24) and s.ray_indices is None
    assert torch.equal(s.t_ends[:, :-1], s.t_starts[:, 1:])
    assert (s.t_ends >= s.t_starts).all()
    assert torch.allclose(s.t_starts[:, 0], near) and torch.allclose(s.t_ends[:, -1], far)


def test_inverse_cdf_puts_samples_where_the_weight_is():
    edges = torch.linspace(0.0, 1.0, 11).expand(4, -1).contiguous()
    weights = torch.zeros(4, 10)
    weights[:, 7] = 1.0
    t = inverse_cdf(edges, weights, 64, stratified=True)
    inside = ((t >= 0.7) & (t <= 0.8)).float().mean()
    assert inside > 0.95


def test_resampling_concentrates_on_a_surface():
    surface = 1.5

    def density(x):
        return torch.where((x[:, 2] - surface).abs() < 0.05, 200.0, 0.0)

    sampler = StratifiedResampler(num_coarse=32, num_fine=32, spacing="linear")
    o = torch.zeros(3, 3)
    d = torch.tensor([[0.0, 0.0, 1.0]]).expand(3, -1)
    s = sampler.sample(o, d, torch.full((3,), 0.1), torch.full((3,), 4.0), density, training=False)
    mid = 0.5 * (s.t_starts + s.t_ends)
    near_surface = ((mid - surface).abs() < 0.15).sum(dim=-1)
    assert (near_surface >= 20).all()

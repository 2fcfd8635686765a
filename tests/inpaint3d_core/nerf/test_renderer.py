import numpy as np
import torch
from torch import nn

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.nerf.config import FieldConfig, RenderSettings
from inpaint3d_core.nerf.renderer import render_rays
from inpaint3d_core.nerf.sampler_cpu import StratifiedResampler
from inpaint3d_core.nerf.trained import TrainedRadianceField


class OpaqueSphere(nn.Module):
    """A red opaque sphere of radius 0.5 at the origin: exact depth and colour are known."""

    config = FieldConfig()

    def density(self, x):
        return torch.where(x.norm(dim=-1) < 0.5, 1e4, 0.0)

    def forward(self, x, d, view_ids=None):
        rgb = torch.tensor([1.0, 0.0, 0.0]).expand(x.shape[0], 3)
        return rgb, self.density(x)


def test_render_rays_hits_and_misses_a_sphere():
    origins = torch.tensor([[0.0, 0.0, -2.0], [0.0, 2.0, -2.0]])
    directions = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    near, far = torch.full((2,), 0.1), torch.full((2,), 4.0)
    out = render_rays(
        OpaqueSphere(),
        StratifiedResampler(64, 64, "linear"),
        origins,
        directions,
        near,
        far,
        background=torch.tensor([0.0, 0.0, 1.0]),
    )
    assert abs(float(out.distance[0]) - 1.5) < 0.03
    assert float(out.acc[0]) > 0.99 and float(out.acc[1]) < 1e-3
    assert torch.allclose(out.rgb[0], torch.tensor([1.0, 0.0, 0.0]), atol=1e-2)
    assert torch.allclose(out.rgb[1], torch.tensor([0.0, 0.0, 1.0]), atol=1e-2)
    # weights sum to the opacity
    assert torch.allclose(out.per_ray_sum(torch.ones_like(out.weights)), out.acc, atol=1e-5)


def test_render_view_returns_z_depth():
    settings = RenderSettings(sampler="stratified", near=0.1, far=4.0, num_coarse=64, num_fine=64, spacing="linear")
    model = TrainedRadianceField(OpaqueSphere(), settings, torch.device("cpu"))
    K = intrinsics(20.0, 16, 12)
    c2w = look_at(np.array([0.0, -2.0, 0.0]), np.zeros(3))
    out = model.render_view(K, c2w, 16, 12, chunk=50)
    assert out["rgb"].shape == (12, 16, 3) and out["depth"].shape == (12, 16) and out["acc"].shape == (12, 16)
    assert out["rgb"].dtype == np.float32
    hit = out["acc"] > 0.5
    assert hit.sum() > 10 and (~hit).sum() > 10
    # z-depth of the sphere surface: for a pixel ray d (camera frame), z = t * d_z with |d| = 1
    ys, xs = np.nonzero(hit)
    for y, x in zip(ys[:5], xs[:5], strict=True):
        d = np.array([(x + 0.5 - 8) / 20.0, (y + 0.5 - 6) / 20.0, 1.0])
        d /= np.linalg.norm(d)
        # camera at distance 2 looking at the centre: ray-sphere intersection distance
        b = 2.0 * d[2]
        t = b - np.sqrt(b * b - (4.0 - 0.25))
        assert abs(out["depth"][y, x] - t * d[2]) < 0.05

"""NeRF and joint optimisation on CUDA: nerfacc's occupancy-grid path, and a joint run at 256 px."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inpaint3d_core.metrics import psnr
from inpaint3d_core.nerf.config import FieldConfig, RenderSettings
from inpaint3d_core.nerf.field import RadianceField
from inpaint3d_core.nerf.renderer import render_rays
from inpaint3d_core.nerf.trained import build_sampler, load_trained
from inpaint3d_core.scene import load_posed_views
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_store
from stages import inpaint as stage

pytestmark = pytest.mark.gpu
CUDA = torch.device("cuda")


class OpaqueSphere(nn.Module):
    config = FieldConfig()

    def density(self, x):
        return torch.where(x.norm(dim=-1) < 0.5, 1e4, 0.0)

    def forward(self, x, d, view_ids=None):
        return torch.tensor([1.0, 0.0, 0.0], device=x.device).expand(x.shape[0], 3), self.density(x)


def test_occupancy_grid_sampler_renders_a_sphere_with_packed_samples():
    field = OpaqueSphere()
    sampler = build_sampler(RenderSettings(sampler="occupancy", render_step_size=2e-3), 1.0, CUDA)
    sampler.rebuild(field.density)
    origins = torch.tensor([[0.0, 0.0, -2.0], [0.0, 2.0, -2.0]], device=CUDA)
    directions = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]], device=CUDA)
    near, far = torch.full((2,), 0.1, device=CUDA), torch.full((2,), 4.0, device=CUDA)
    out = render_rays(field, sampler, origins, directions, near, far)
    assert out.samples.packed
    assert abs(float(out.distance[0]) - 1.5) < 0.02 and float(out.acc[0]) > 0.99 and float(out.acc[1]) < 1e-3


def test_training_steps_with_the_occupancy_grid_lower_the_loss():
    torch.manual_seed(0)
    field = RadianceField(FieldConfig(levels=8, log2_table_size=16)).to(CUDA)
    sampler = build_sampler(RenderSettings(sampler="occupancy"), 1.0, CUDA)
    opt = torch.optim.Adam(field.parameters(), lr=1e-2, eps=1e-15)
    origins = torch.zeros(4096, 3, device=CUDA)
    directions = nn.functional.normalize(torch.randn(4096, 3, device=CUDA), dim=-1)
    target = (directions * 0.5 + 0.5).clamp(0, 1)  # a colour per direction: an environment map
    near, far = torch.full((4096,), 0.05, device=CUDA), torch.full((4096,), 3.0, device=CUDA)
    losses = []
    for step in range(200):
        sampler.update(step, field.density)
        out = render_rays(field, sampler, origins, directions, near, far, training=True)
        loss = ((out.rgb - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:5])


def test_joint_stage_on_a_256px_synthetic_scene(tmp_path):
    scene = generate_scene(SyntheticConfig.preset("full", n_views=16))
    assert scene.images.shape[2] >= 256
    store = SceneStore(tmp_path / "scene.zarr")
    write_store(scene, store)
    result = stage.run(
        store, stage.Config(preset="full", steps_scale=0.1, prior={"internal_preset": "quick"}, device="cuda")
    )
    summary = result.summary
    assert summary["device"].startswith("cuda") and summary["skipped_steps"] == 0
    assert summary["final_losses"]["sds"] is not None and summary["final_losses"]["depth"] is not None
    model = load_trained(store, device="cuda")
    posed = load_posed_views(store)
    out = model.render_view(posed.cameras.K[0], posed.cameras.c2w[0], posed.views[0].width, posed.views[0].height)
    known = scene.masks[0] == 0
    assert psnr(out["rgb"], scene.images[0] / 255.0, known) > 20.0

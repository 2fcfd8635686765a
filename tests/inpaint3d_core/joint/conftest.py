"""Tiny training data for the joint tests: the session's synthetic scene as TrainingViews."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint3d_core.cameras import fit_normalization
from inpaint3d_core.joint.config import preset
from inpaint3d_core.joint.rays import TrainingViews
from inpaint3d_core.nerf.config import FieldConfig, RenderSettings
from inpaint3d_core.priors.base import SDSOutput

TINY_FIELD = FieldConfig(
    levels=4, log2_table_size=12, base_resolution=8, max_resolution=64, hidden_dim=16, color_hidden_dim=16, sh_degree=2
)


def _tiny_config(steps: int = 48, **overrides):
    base = dict(
        steps=steps,
        warmup_steps=steps // 2,
        checkpoint_every=steps,
        rays_per_batch=192,
        hole_rays_per_batch=32,
        field=TINY_FIELD,
        render=RenderSettings(sampler="stratified", num_coarse=12, num_fine=12),
    )
    return preset("quick", **{**base, **overrides})


@pytest.fixture
def tiny_config():
    """Factory of CPU-toy joint configs (few steps, rays and samples); keyword overrides apply."""
    return _tiny_config


class ConstantColourPrior:
    """A stub prior whose SDS gradient pulls the hole toward grey (an exact, known target)."""

    resolution = 16
    crop_context = 2.0

    def __init__(self):
        self.calls = []

    def sds_loss(self, rendered, cond_image, mask, progress):
        self.calls.append((tuple(rendered.shape), tuple(cond_image.shape), tuple(mask.shape), progress))
        grad = (rendered.detach() - 0.5) * mask
        loss = 0.5 * ((rendered - (rendered - grad).detach()) ** 2).sum()
        return SDSOutput(loss=loss, grad_norm=float(grad.norm()), timestep=0)

    def inpaint(self, image, mask, seed=0):
        return image * (1 - mask) + 0.5 * mask


@pytest.fixture
def stub_prior():
    return ConstantColourPrior()


@pytest.fixture(scope="session")
def tiny_views(synthetic_scene):
    """(TrainingViews in the normalised scene, near, far) from the tiny synthetic scene."""
    cams = synthetic_scene.cameras
    norm = fit_normalization(cams.centers)
    c2w = norm.apply_c2w(cams.c2w)
    depth = synthetic_scene.depth * norm.scale
    holes = [m > 0 for m in synthetic_scene.masks]
    views = TrainingViews(list(synthetic_scene.images), holes, cams.K, c2w)
    return views, float(depth.min()) * 0.8, float(depth.max()) * 1.2


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)
    np.random.seed(0)

"""Random training backgrounds keep a black surface opaque (issue 18: fern's hole 34% transparent).

The scene is a plane, black on one side and light grey on the other, seen by six cameras;
against the black render background an empty ray matches a black pixel exactly, so without
random backgrounds the black half is learned as empty space.
"""

from __future__ import annotations

import numpy as np
import torch

from inpaint3d_core.joint.rays import TrainingViews
from inpaint3d_core.joint.trainer import JointTrainer
from inpaint3d_core.nerf.trained import TrainedRadianceField

SIZE = 24
PLANE_Z = 0.6
K = np.array([[24.0, 0.0, 12.0], [0.0, 24.0, 12.0], [0.0, 0.0, 1.0]])


def _camera(x: float, y: float) -> np.ndarray:
    c2w = np.eye(4)  # OpenCV axes: looking along +z at the plane
    c2w[:3, 3] = [x, y, -0.8]
    return c2w


def _photo(c2w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 image of the plane (black where its x < 0, grey 0.8 elsewhere) and each pixel's plane x."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    plane_x = c2w[0, 3] + (PLANE_Z - c2w[2, 3]) * (xs - K[0, 2]) / K[0, 0]
    grey = np.where(plane_x < 0, 0.0, 0.8)
    return np.repeat((grey * 255).round().astype(np.uint8)[..., None], 3, axis=-1), plane_x


def _opacity_of_each_half(tiny_config, random_background: bool) -> tuple[float, float]:
    cams = [_camera(x, y) for x in (-0.2, 0.0, 0.2) for y in (-0.15, 0.15)]
    holes = [np.zeros((SIZE, SIZE), bool)] * len(cams)
    views = TrainingViews([_photo(c)[0] for c in cams], holes, np.stack([K] * len(cams)), np.stack(cams))
    config = tiny_config(steps=200, random_background=random_background)
    trainer = JointTrainer(views, config, None, torch.device("cpu"), near=0.5, far=3.0)
    trainer.run()
    model = TrainedRadianceField(trainer.field, trainer.render_settings, torch.device("cpu"), trainer.sampler)
    acc = model.render_view(K, cams[2], SIZE, SIZE)["acc"]
    _, plane_x = _photo(cams[2])
    return float(acc[plane_x < -0.05].mean()), float(acc[plane_x > 0.05].mean())


def test_random_background_makes_a_black_surface_as_opaque_as_a_light_one(tiny_config):
    black_fixed, light_fixed = _opacity_of_each_half(tiny_config, random_background=False)
    black_random, light_random = _opacity_of_each_half(tiny_config, random_background=True)
    # the failure: against the fixed black background the black half stays (mostly) empty
    assert black_fixed < 0.5 * light_fixed
    # the fix: with random backgrounds it is about as opaque as the light half, far more than before
    assert black_random > 0.9 * light_random
    assert black_random - black_fixed > 0.5 * light_fixed


def test_only_the_photometric_rays_get_random_backgrounds(tiny_views, tiny_config):
    views, near, far = tiny_views
    trainer = JointTrainer(views, tiny_config(steps=2), None, torch.device("cpu"), near, far)
    first, second = trainer._training_background(5), trainer._training_background(5)
    assert first.shape == (5, 3) and not torch.equal(first, second)
    off = JointTrainer(views, tiny_config(steps=2, random_background=False), None, torch.device("cpu"), near, far)
    assert off._training_background(5) is None
    # renders without an explicit background (hole depth, visibility, output) use the fixed one
    origins = torch.zeros(64, 3)
    directions = torch.nn.functional.normalize(torch.randn(64, 3), dim=-1)
    ids = torch.zeros(64, dtype=torch.long)
    renders = [trainer._render(origins, directions, ids, training=False).rgb for _ in range(2)]
    torch.testing.assert_close(renders[0], renders[1], rtol=0, atol=0)

import numpy as np
import torch

from inpaint3d_core.boxes import hole_crop
from inpaint3d_core.joint.crops import compose_crop, make_crop


def _view():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    hole = np.zeros((40, 60), dtype=bool)
    hole[15:25, 20:32] = True
    return image, hole


def test_crop_matches_the_per_view_window_and_renders_only_the_hole():
    image, hole = _view()
    crop = make_crop(3, image, hole, resolution=32, render_resolution=16, context=2.0, device=torch.device("cpu"))
    assert crop.box == hole_crop(hole, context=2.0)
    assert crop.cond.shape == (3, 32, 32) and crop.mask.shape == (1, 32, 32)
    assert crop.ray_xy.shape[0] == int(crop.render_hole.sum()) > 0
    # every rendered ray passes through the hole or its one-pixel border (area resampling)
    ys, xs = crop.ray_xy[:, 1].numpy(), crop.ray_xy[:, 0].numpy()
    assert ys.min() >= 14 and ys.max() <= 26 and xs.min() >= 19 and xs.max() <= 33
    # the condition has the hole blanked
    assert float((crop.cond * crop.mask).abs().sum()) == 0.0


def test_composed_crop_keeps_context_and_sends_gradients_to_hole_rays_only():
    image, hole = _view()
    crop = make_crop(0, image, hole, resolution=32, render_resolution=32, context=2.0, device=torch.device("cpu"))
    hole_rgb = torch.full((crop.ray_xy.shape[0], 3), 0.25, requires_grad=True)
    composed = compose_crop(crop, hole_rgb)
    known = crop.mask[0] == 0
    torch.testing.assert_close(composed[:, known], crop.cond[:, known])
    assert torch.allclose(composed[:, ~known], torch.tensor(0.25))
    composed.sum().backward()
    assert torch.allclose(hole_rgb.grad, torch.ones_like(hole_rgb))

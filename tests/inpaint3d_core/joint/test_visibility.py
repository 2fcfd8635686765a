"""What other views show of a hole, on a floor plane seen by two cameras (exact depth)."""

from __future__ import annotations

import numpy as np

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.joint.visibility import backproject, generative_region, observe_hole

W, H = 40, 30


def _floor(K: np.ndarray, c2w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z-depth of the plane z = 0 at every pixel centre, and an image coloured by floor x, y."""
    ys, xs = np.mgrid[0:H, 0:W]
    pixels = np.stack([xs + 0.5, ys + 0.5, np.ones_like(xs, dtype=float)], -1).reshape(-1, 3)
    rays = pixels @ np.linalg.inv(K).T @ c2w[:3, :3].T  # world direction per unit z-depth
    depth = (-c2w[2, 3] / rays[:, 2]).reshape(H, W)
    points = backproject(depth, ys.ravel(), xs.ravel(), K, c2w)
    rgb = np.clip(np.stack([points[:, 0] * 60 + 128, points[:, 1] * 60 + 128, np.full(len(points), 50)], -1), 0, 255)
    return depth, rgb.reshape(H, W, 3).astype(np.uint8)


def _two_views(second_eye=(1.0, 0.0, 2.0)):
    K = np.stack([intrinsics(30.0, W, H)] * 2)
    eyes = [np.array([1e-3, 0.0, 2.0]), np.array(second_eye)]
    c2w = np.stack([look_at(eye, np.zeros(3)) for eye in eyes])
    floors = [_floor(K[i], c2w[i]) for i in range(2)]
    return K, c2w, [f[0] for f in floors], [np.ones((H, W)) for _ in range(2)], [f[1] for f in floors]


def _hole() -> np.ndarray:
    hole = np.zeros((H, W), bool)
    hole[10:20, 15:25] = True
    return hole


def test_backprojected_pixels_lie_on_the_floor():
    K, c2w, depths, _, _ = _two_views()
    ys, xs = np.nonzero(np.ones((H, W), bool))
    assert np.abs(backproject(depths[0], ys, xs, K[0], c2w[0])[:, 2]).max() < 1e-9


def test_a_hole_the_other_view_sees_unmasked_gets_its_depth_and_colours():
    K, c2w, depths, accs, images = _two_views()
    seen = observe_hole(1, images, depths, accs, [np.zeros((H, W), bool), _hole()], K, c2w)
    assert seen.observed[_hole()].mean() > 0.9 and not seen.observed[~_hole()].any()
    hit = seen.observed
    np.testing.assert_allclose(seen.depth[hit], depths[1][hit], rtol=0.05)
    assert np.abs(seen.rgb[hit].astype(float) - images[1][hit]).mean() < 4.0  # same floor point, same colour
    assert (seen.depth[~hit] == 0).all()


def test_what_the_other_view_masks_or_renders_transparent_does_not_count():
    K, c2w, depths, accs, images = _two_views()
    masked_too = observe_hole(1, images, depths, accs, [np.ones((H, W), bool), _hole()], K, c2w)
    assert not masked_too.observed.any()
    transparent = [np.zeros((H, W)), accs[1]]
    assert not observe_hole(1, images, depths, transparent, [np.zeros((H, W), bool), _hole()], K, c2w).observed.any()


def test_hole_parts_outside_the_other_frustum_stay_generative():
    K, c2w, depths, accs, images = _two_views(second_eye=(0.6, 0.0, 0.5))  # low and close: a small floor patch
    everything = np.ones((H, W), bool)
    seen = observe_hole(0, images, depths, accs, [everything, np.zeros((H, W), bool)], K, c2w)
    assert 0 < seen.observed.sum() < 0.5 * everything.sum()
    region = generative_region(everything, seen.observed, margin_px=0)
    np.testing.assert_array_equal(region, ~seen.observed)
    grown = generative_region(_hole(), np.zeros((H, W), bool), margin_px=3)
    np.testing.assert_array_equal(grown, _hole())  # growth never leaves the hole

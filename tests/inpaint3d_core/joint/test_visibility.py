"""Which hole pixels other views observe, on a floor plane seen by two cameras (exact depth)."""

from __future__ import annotations

import numpy as np

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.joint.visibility import backproject, generative_region, observed_hole_pixels

W, H = 40, 30


def _floor_depth(K: np.ndarray, c2w: np.ndarray) -> np.ndarray:
    """z-depth of the plane z = 0 at every pixel centre."""
    ys, xs = np.mgrid[0:H, 0:W]
    pixels = np.stack([xs + 0.5, ys + 0.5, np.ones_like(xs, dtype=float)], -1).reshape(-1, 3)
    rays = pixels @ np.linalg.inv(K).T @ c2w[:3, :3].T  # world direction per unit z-depth
    return (-c2w[2, 3] / rays[:, 2]).reshape(H, W)


def _two_views(second_eye=(1.0, 0.0, 2.0)):
    K = np.stack([intrinsics(30.0, W, H)] * 2)
    c2w = np.stack(
        [look_at(np.array([0.0, 0.0, 2.0]) + [1e-3, 0, 0], np.zeros(3)), look_at(np.array(second_eye), np.zeros(3))]
    )
    depths = [_floor_depth(K[i], c2w[i]) for i in range(2)]
    accs = [np.ones((H, W)) for _ in range(2)]
    return K, c2w, depths, accs


def test_backprojected_pixels_lie_on_the_floor():
    K, c2w, depths, _ = _two_views()
    ys, xs = np.nonzero(np.ones((H, W), bool))
    points = backproject(depths[0], ys, xs, K[0], c2w[0])
    assert np.abs(points[:, 2]).max() < 1e-9


def test_hole_seen_unmasked_by_the_other_view_is_observed_and_a_masked_one_is_not():
    K, c2w, depths, accs = _two_views()
    hole = np.zeros((H, W), bool)
    hole[10:20, 15:25] = True
    other_clear = np.zeros((H, W), bool)
    observed = observed_hole_pixels(0, depths, accs, [hole, other_clear], K, c2w)
    assert observed[hole].mean() > 0.95 and not observed[~hole].any()
    other_masked = np.ones((H, W), bool)  # the other view masks everything: nobody sees the hole
    assert not observed_hole_pixels(0, depths, accs, [hole, other_masked], K, c2w).any()


def test_an_occluder_in_the_other_view_and_transparent_pixels_leave_the_hole_unobserved():
    K, c2w, depths, accs = _two_views()
    hole = np.zeros((H, W), bool)
    hole[10:20, 15:25] = True
    clear = np.zeros((H, W), bool)
    occluded = [depths[0], depths[1] * 0.5]  # something halfway to the floor hides it from view 1
    assert not observed_hole_pixels(0, occluded, accs, [hole, clear], K, c2w).any()
    transparent = [np.zeros((H, W)), accs[1]]  # view 0's warm-up renders nothing in its hole
    assert not observed_hole_pixels(0, depths, transparent, [hole, clear], K, c2w).any()


def test_hole_parts_outside_the_other_frustum_stay_generative():
    K, c2w, depths, accs = _two_views(second_eye=(0.6, 0.0, 0.5))  # low, close: sees a small floor patch
    hole = np.ones((H, W), bool)
    observed = observed_hole_pixels(0, depths, accs, [hole, np.zeros((H, W), bool)], K, c2w)
    assert 0 < observed.sum() < hole.sum()
    region = generative_region(hole, observed, margin_px=0)
    assert not (region & observed).any() or (region & observed).sum() < 0.05 * observed.sum()
    assert region.sum() >= (hole & ~observed).sum() * 0.95 and not (region & ~hole).any()

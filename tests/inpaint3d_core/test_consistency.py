"""The consistency measure: ~0 for a coherent scene, worse for per-view-independent content."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.consistency import RenderedView, multiview_consistency, nearest_views, warp_pair
from inpaint3d_core.errors import InputError

SIZE, FOCAL = 48, 40.0


def _texture(x, y):
    return np.stack(
        [0.5 + 0.4 * np.sin(3 * x) * np.cos(2 * y), 0.5 + 0.4 * np.cos(2.5 * x + y), 0.5 + 0.4 * np.sin(4 * y)], -1
    )


def _render_ground(c2w, K, width=SIZE, height=SIZE):
    """Exact render of a textured ground plane z=0; mask = the disk of radius 0.6 at the origin."""
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    d_cam = np.stack([(xs - K[0, 2]) / K[0, 0], (ys - K[1, 2]) / K[1, 1], np.ones_like(xs)], -1)
    d_world = d_cam @ c2w[:3, :3].T
    t = -c2w[2, 3] / d_world[..., 2]  # z-depth, since d_cam has unit z
    hit = c2w[:3, 3] + t[..., None] * d_world
    mask = (np.hypot(hit[..., 0], hit[..., 1]) < 0.6).astype(np.uint8)
    return _texture(hit[..., 0], hit[..., 1]).astype(np.float32), t.astype(np.float32), mask


def _views(n=5):
    K = intrinsics(FOCAL, SIZE, SIZE)
    views = []
    for angle in np.linspace(0, np.pi / 2, n):
        c2w = look_at(np.array([2.0 * np.cos(angle), 2.0 * np.sin(angle), 2.5]), np.zeros(3))
        rgb, depth, mask = _render_ground(c2w, K)
        views.append(RenderedView(rgb=rgb, depth=depth, K=K, c2w=c2w, mask=mask))
    return views


def test_coherent_renders_are_consistent():
    result = multiview_consistency(_views(), neighbours=2)
    assert result["photometric_l1"] < 0.02  # only bilinear resampling error
    assert result["depth_error"] < 0.01  # nearest-pixel depth lookup on a slanted plane
    assert result["coverage"] > 0.9
    assert result["pairs"] == 10


def test_independently_filled_views_rank_worse_than_coherent_ones():
    """Like per-view inpainting: each view's hole gets its own plausible (flat, random) colour."""
    rng = np.random.default_rng(0)
    coherent = _views()
    inconsistent = []
    for view in coherent:
        rgb = view.rgb.copy()
        rgb[view.mask > 0] = rng.random(3)
        inconsistent.append(RenderedView(rgb=rgb, depth=view.depth, K=view.K, c2w=view.c2w, mask=view.mask))
    good = multiview_consistency(coherent)
    bad = multiview_consistency(inconsistent)
    assert bad["photometric_l1"] > 5 * good["photometric_l1"]
    assert bad["depth_error"] == pytest.approx(good["depth_error"])  # same geometry


def test_per_view_geometry_disagreement_raises_depth_error():
    rng = np.random.default_rng(1)
    coherent = _views()
    bent = []
    for view in coherent:
        depth = view.depth.copy()
        depth[view.mask > 0] *= rng.uniform(0.7, 1.3)  # each view invents its own surface
        bent.append(RenderedView(rgb=view.rgb, depth=depth, K=view.K, c2w=view.c2w, mask=view.mask))
    assert multiview_consistency(bent)["depth_error"] > 20 * multiview_consistency(coherent)["depth_error"]


def test_occluded_and_transparent_pixels_are_not_compared():
    a, b = _views(2)
    blocked = RenderedView(rgb=b.rgb, depth=b.depth * 0.5, K=b.K, c2w=b.c2w, mask=b.mask)  # something in front
    assert not warp_pair(a, blocked).visible.any()
    empty = RenderedView(rgb=a.rgb, depth=a.depth, K=a.K, c2w=a.c2w, mask=a.mask, acc=np.zeros_like(a.depth))
    assert warp_pair(empty, b).source_pixels.size == 0


def test_neighbours_and_input_checks():
    views = _views(4)
    neigh = nearest_views(np.stack([v.c2w for v in views]), 1)
    assert neigh[0] == [1] and neigh[3] == [2]
    with pytest.raises(InputError, match="at least 2"):
        multiview_consistency(views[:1])
    blank = [RenderedView(v.rgb, v.depth, v.K, v.c2w, np.zeros_like(v.mask)) for v in views]
    assert multiview_consistency(blank)["photometric_l1"] is None


def test_real_size_pair_with_a_large_mask_is_consistent():
    """1008x567 views whose masks hold > 40k pixels (one 1xN remap map would exceed OpenCV's limit)."""
    width, height = 1008, 567
    K = intrinsics(900.0, width, height)
    views = []
    for angle in (0.0, 0.15):
        c2w = look_at(np.array([2.0 * np.cos(angle), 2.0 * np.sin(angle), 1.5]), np.zeros(3))
        rgb, depth, mask = _render_ground(c2w, K, width, height)
        views.append(RenderedView(rgb=rgb, depth=depth, K=K, c2w=c2w, mask=mask))
    assert min(int(v.mask.sum()) for v in views) > 40_000
    result = multiview_consistency(views, neighbours=1)
    assert result["coverage"] > 0.9
    assert result["photometric_l1"] < 0.02

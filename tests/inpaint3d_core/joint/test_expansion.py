"""Virtual cameras of scene expansion and their unobserved-pixel masks, checked on exact geometry."""

import numpy as np
import pytest
import torch

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.joint.config import ExpansionConfig
from inpaint3d_core.joint.expansion import (
    VirtualViews,
    build_virtual_views,
    extended_cameras,
    inside_input_frustums,
    unobserved_mask,
    virtual_cameras,
    wider_cameras,
)
from inpaint3d_core.joint.rays import TrainingViews


def _arc(n=5, w=40, h=30):
    """Cameras on a horizontal arc of radius 2 looking at the origin (OpenCV, z up world)."""
    angles = np.radians(np.linspace(-30, 30, n))
    c2w = np.stack([look_at(np.array([2 * np.cos(a), 2 * np.sin(a), 0.0]), np.zeros(3)) for a in angles])
    K = np.stack([intrinsics(30.0, w, h)] * n)
    return K, c2w, np.full(n, w), np.full(n, h)


def _project(K, c2w, point):
    cam = np.linalg.inv(c2w) @ np.append(point, 1.0)
    uv = K @ cam[:3]
    return uv[:2] / uv[2]


def test_wider_views_keep_the_captured_view_as_their_centre():
    K, c2w, w, h = _arc()
    wide = wider_cameras(K, c2w, w, h, factor=1.5, count=3)
    assert list(wide.source) == [0, 2, 4] and (wide.width == 60).all() and (wide.height == 45).all()
    point = np.array([0.1, -0.2, 0.15])
    for k, i in enumerate(wide.source):
        # the same 3D point lands at the same pixel, shifted by the added border
        np.testing.assert_allclose(_project(wide.K[k], wide.c2w[k], point), _project(K[i], c2w[i], point) + [10, 7.5])


def test_extended_cameras_continue_the_path_by_its_own_step():
    K, c2w, w, h = _arc()
    ext = extended_cameras(K, c2w, w, h, count=2, step=1.0)
    assert list(ext.source) == [4, 4, 0, 0] and ext.kind == ["extend"] * 4
    for pose, angle in zip(ext.c2w, np.radians([45, 60, -45, -60]), strict=True):
        np.testing.assert_allclose(pose[:3, 3], [2 * np.cos(angle), 2 * np.sin(angle), 0.0], atol=1e-9)
        # still looking at the origin, as every camera of the arc does
        np.testing.assert_allclose(pose[:3, 2], -pose[:3, 3] / 2.0, atol=1e-9)
    half = extended_cameras(K, c2w, w, h, count=1, step=0.5)
    chord = np.linalg.norm(c2w[4][:3, 3] - c2w[3][:3, 3])
    # half a step: half the chord on from the end camera, turned by half the angle
    assert np.linalg.norm(half.c2w[0][:3, 3] - c2w[4][:3, 3]) == pytest.approx(0.5 * chord)
    turn = np.degrees(np.arccos(np.clip(half.c2w[0][:3, 2] @ c2w[4][:3, 2], -1, 1)))
    assert turn == pytest.approx(7.5)


def test_virtual_camera_choice_follows_the_config():
    K, c2w, w, h = _arc()
    assert virtual_cameras(K, c2w, w, h, ExpansionConfig(cameras="wider", wider_views=2)).kind == ["wider"] * 2
    both = virtual_cameras(K, c2w, w, h, ExpansionConfig(wider_views=1, extend_views=1))
    assert both.kind == ["wider", "extend", "extend"] and both.K.shape == (3, 3, 3)
    assert len(extended_cameras(K[:1], c2w[:1], w[:1], h[:1], count=2, step=1.0)) == 0


def test_frustum_test_marks_exactly_the_border_a_wider_view_adds():
    K, c2w, w, h = _arc(n=1)
    wide = wider_cameras(K, c2w, w, h, factor=2.0, count=1)
    depth = np.full((60, 80), 2.0)  # a fronto-parallel wall through the origin
    inside = inside_input_frustums(wide.K[0], wide.c2w[0], depth, K, c2w, w, h)
    expected = np.zeros((60, 80), bool)
    expected[15:45, 20:60] = True
    np.testing.assert_array_equal(inside, expected)
    hole = unobserved_mask(np.ones_like(depth), inside, acc_threshold=0.5, dilate_px=0)
    np.testing.assert_array_equal(hole, ~expected)
    transparent = np.ones_like(depth)
    transparent[30, 40] = 0.1  # seen place but nothing rendered there: unobserved too
    assert unobserved_mask(transparent, inside, 0.5, 0)[30, 40]
    assert unobserved_mask(np.ones_like(depth), inside, 0.5, 2).sum() > hole.sum()


def test_build_virtual_views_renders_masks_and_fills_depth():
    K, c2w, w, h = _arc(n=3)
    views = TrainingViews([np.zeros((30, 40, 3), np.uint8)] * 3, [np.zeros((30, 40), bool)] * 3, K, c2w)
    calls = []

    def render(Kv, pose, width, height, appearance):
        calls.append(appearance)
        rgb = np.full((height, width, 3), 0.5)
        return rgb, np.full((height, width), 2.0), np.ones((height, width))

    config = ExpansionConfig(wider_views=1, extend_views=1, dilate_px=0)
    virtual = build_virtual_views(render, views, config)
    assert calls == [0, 2, 0] and len(virtual) == 3
    for image, hole, depth in zip(virtual.images, virtual.holes, virtual.depth_targets, strict=True):
        assert 0 < hole.mean() < 1 and (image[hole] == 0).all() and (image[~hole] == 128).all()
        np.testing.assert_allclose(depth[hole], 2.0, rtol=1e-4)  # a constant wall continues as itself
    # a virtual camera that sees only what the inputs saw adds nothing and is dropped
    assert len(build_virtual_views(render, views, ExpansionConfig(cameras="wider", fov_factor=1.0))) == 0

    restored = VirtualViews.from_tensors(virtual.to_tensors())
    assert restored.cameras.kind == virtual.cameras.kind
    np.testing.assert_array_equal(restored.holes[1], virtual.holes[1])
    np.testing.assert_array_equal(restored.cameras.source, virtual.cameras.source)
    assert VirtualViews.from_tensors({"other": torch.zeros(1)}) is None


@pytest.mark.parametrize("bad", [{"fov_factor": 0.5}, {"acc_threshold": 1.0}, {"cameras": "sideways"}])
def test_expansion_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        ExpansionConfig(**bad)

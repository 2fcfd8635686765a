"""Camera trajectories: the forward-facing handheld patch (LLFF / SPIn-NeRF-like) and its checks
against the room; the arc stays the default."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest

from inpaint3d_core.synthetic import SyntheticConfig, arc_cameras, forward_cameras, generate_scene, scene_cameras
from inpaint3d_core.synthetic.world import SyntheticWorld

TARGET = np.array([0.0, 0.0, 0.35])


def _patch_coordinates(cameras, config):
    """Camera centres in the (right, up, forward) frame of the patch centre's camera."""
    phi = np.radians(config.arc_center_degrees)
    centre = np.array([config.radius * np.cos(phi), config.radius * np.sin(phi), config.camera_height])
    forward = (TARGET - centre) / np.linalg.norm(TARGET - centre)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return (cameras.centers - centre) @ np.stack([right, up, forward], axis=1)


def test_arc_is_the_default():
    config = SyntheticConfig(n_views=5)
    assert config.trajectory == "arc"
    np.testing.assert_array_equal(scene_cameras(config, TARGET).c2w, arc_cameras(config, TARGET).c2w)


def test_forward_cameras_span_a_small_patch_facing_the_object():
    config = SyntheticConfig(trajectory="forward", n_views=60, jitter=0.0, baseline=0.15)
    cameras = forward_cameras(config, TARGET)
    local = _patch_coordinates(cameras, config)
    width = config.baseline * config.radius
    assert 0.85 * width < np.ptp(local[:, 0]) <= width + 1e-9  # sideways: the baseline
    assert 0.5 * width < np.ptp(local[:, 1]) <= 0.6 * width + 1e-9  # vertically: a flatter sweep
    assert np.abs(local[:, 2]).max() <= 0.05 * config.radius + 1e-9  # little motion toward the object
    # Without jitter every camera looks exactly at the target, upright.
    to_target = TARGET - cameras.centers
    np.testing.assert_allclose(cameras.c2w[:, :3, 2], to_target / np.linalg.norm(to_target, axis=1, keepdims=True))
    np.testing.assert_allclose(cameras.c2w[:, 2, 0], 0.0, atol=1e-12)
    # A continuous sweep: consecutive cameras are close compared with the patch.
    steps = np.linalg.norm(np.diff(cameras.centers, axis=0), axis=1)
    assert steps.max() < 0.25 * width


def test_forward_jitter_is_handheld_like():
    config = SyntheticConfig(trajectory="forward", n_views=40, seed=3)
    cameras = forward_cameras(config, TARGET)
    still = forward_cameras(config.model_copy(update={"jitter": 0.0}), TARGET)
    shift = np.linalg.norm(cameras.centers - still.centers, axis=1)
    assert 0.0 < np.median(shift) < 0.3 * config.baseline * config.radius
    tilt = np.degrees(np.arccos(np.clip(np.sum(cameras.c2w[:, :3, 2] * still.c2w[:, :3, 2], axis=1), -1, 1)))
    roll = np.degrees(np.arcsin(np.abs(cameras.c2w[:, 2, 0])))
    assert 0.0 < np.median(tilt) < 5.0 and 0.0 < np.median(roll) < 5.0
    other = forward_cameras(config.model_copy(update={"seed": 4}), TARGET)
    assert not np.allclose(other.c2w, cameras.c2w)


def test_forward_scene_sees_the_object_in_every_view():
    config = SyntheticConfig(trajectory="forward", width=40, height=24, n_views=6, seed=1)
    scene = generate_scene(config)
    world = SyntheticWorld(config)
    assert all(world.is_free(c) for c in scene.cameras.centers)
    area = scene.masks.mean(axis=(1, 2))
    assert (area > 0.03).all() and (area < 0.4).all()
    # The object's mask stays off the border: the capture is centred on it.
    assert not scene.masks[:, :, [0, -1]].any()


def test_forward_validated_against_the_room():
    with pytest.raises(pydantic.ValidationError, match="room_half_width"):
        SyntheticConfig(trajectory="forward", radius=2.3, arc_center_degrees=0.0)
    with pytest.raises(pydantic.ValidationError, match="heights"):
        SyntheticConfig(trajectory="forward", camera_height=2.5, baseline=0.5)
    with pytest.raises(pydantic.ValidationError, match="heights"):
        SyntheticConfig(trajectory="forward", camera_height=0.1, baseline=0.5)
    # The same radius fits on the diagonal, where the walls are farther away.
    assert SyntheticConfig(trajectory="forward", radius=2.3, arc_center_degrees=45.0).camera_extent[0] < 2.3
    with pytest.raises(pydantic.ValidationError):
        SyntheticConfig(trajectory="spiral")

"""Camera paths: pass through the inputs, orbit the looked-at point, spiral toward the focus."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.camera_path import (
    interpolate_path,
    look_target,
    make_path,
    nearest_neighbour_order,
    orbit_path,
    spiral_path,
)
from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.errors import InputError

TARGET = np.array([0.3, -0.2, 0.1])


def _arc(n=5, spread=np.pi / 2):
    eyes = [TARGET + np.array([2 * np.cos(a), 2 * np.sin(a), 1.0]) for a in np.linspace(0, spread, n)]
    return np.stack([look_at(e, TARGET) for e in eyes])


def _is_rotation(poses):
    rot = poses[:, :3, :3]
    return np.allclose(rot @ rot.transpose(0, 2, 1), np.eye(3), atol=1e-9) and np.allclose(np.linalg.det(rot), 1)


def test_interpolation_passes_through_the_cameras_at_even_speed():
    cams = _arc(5)
    path = interpolate_path(cams, n_frames=4 * 4 + 1)  # equal spacing: every 4th frame is a camera
    np.testing.assert_allclose(path[::4], cams, atol=1e-9)
    steps = np.linalg.norm(np.diff(path[:, :3, 3], axis=0), axis=1)
    assert steps.max() / steps.min() < 1.1
    assert _is_rotation(path)


def test_nearest_neighbour_order_undoes_a_shuffle():
    cams = _arc(6)
    shuffled = cams[[3, 0, 5, 1, 4, 2]]
    order = nearest_neighbour_order(shuffled[:, :3, 3])
    recovered = shuffled[order][:, :3, 3]
    assert np.allclose(recovered, cams[:, :3, 3]) or np.allclose(recovered, cams[::-1, :3, 3])


def test_orbit_circles_the_looked_at_point_and_faces_it():
    cams = _arc(4)
    np.testing.assert_allclose(look_target(cams), TARGET, atol=1e-9)
    path = orbit_path(cams, 12)
    offsets = path[:, :3, 3] - TARGET
    np.testing.assert_allclose(np.linalg.norm(offsets[:, :2], axis=1), 2.0, atol=1e-9)
    np.testing.assert_allclose(offsets[:, 2], 1.0, atol=1e-9)
    forward = path[:, :3, 2]
    np.testing.assert_allclose(np.einsum("ij,ij->i", forward, -offsets / np.linalg.norm(offsets, axis=1)[:, None]), 1)
    assert _is_rotation(path)


def test_spiral_for_forward_facing_cameras_looks_at_the_focus():
    cams = np.stack(
        [
            look_at(np.array([x, y, 0.0]), np.array([x, y, 5.0]), np.array([0, -1.0, 0]))
            for x, y in [(-0.2, 0.1), (0.2, 0.1), (0.0, -0.1), (0.1, 0.0)]
        ]
    )
    assert look_target(cams) is None  # parallel axes: no look-at point
    path = spiral_path(cams, 20, focus_distance=3.0)
    focus = cams[:, :3, 3].mean(axis=0) + np.array([0, 0, 3.0])
    to_focus = focus - path[:, :3, 3]
    np.testing.assert_allclose(path[:, :3, 2], to_focus / np.linalg.norm(to_focus, axis=1)[:, None], atol=1e-9)
    center = cams[:, :3, 3].mean(axis=0)
    spread = np.abs(cams[:, :2, 3] - center[:2]).max(axis=0)
    assert (np.abs(path[:, :2, 3] - center[:2]) <= spread + 1e-9).all()  # within the captured viewpoints


def test_make_path_scales_intrinsics_and_rejects_bad_requests():
    cams = _arc(3)
    K = intrinsics(50.0, 64, 48)
    path = make_path("orbit", cams, K, 64, 48, n_frames=8, out_width=32)
    assert (path.width, path.height, len(path)) == (32, 24, 8)
    np.testing.assert_allclose(path.K, intrinsics(25.0, 32, 24))
    with pytest.raises(InputError, match="n_frames"):
        make_path("orbit", cams, K, 64, 48, n_frames=1)
    with pytest.raises(InputError, match="at least 2"):
        make_path("interpolate", cams[:1], K, 64, 48, n_frames=5)

"""Pose conventions and ray generation."""

from __future__ import annotations

import numpy as np
import torch

from inpaint3d_core.cameras import (
    Cameras,
    fit_normalization,
    intrinsics,
    llff_to_opencv,
    look_at,
    opencv_to_llff,
    opencv_to_opengl,
    opengl_to_opencv,
    pixel_rays,
    ray_z_scale,
)


def test_look_at_points_the_optical_axis_at_the_target():
    c2w = look_at(np.array([3.0, 1.0, 2.0]), np.zeros(3))
    forward = c2w[:3, 2]
    assert np.allclose(forward, -c2w[:3, 3] / np.linalg.norm(c2w[:3, 3]))
    assert np.allclose(c2w[:3, :3] @ c2w[:3, :3].T, np.eye(3), atol=1e-12)
    assert np.linalg.det(c2w[:3, :3]) > 0
    assert c2w[:3, 1] @ np.array([0, 0, 1.0]) < 0  # image "down" points away from world up


def test_convention_round_trips():
    c2w = look_at(np.array([1.0, -2.0, 0.5]), np.array([0.1, 0.2, 0.0]))
    assert np.allclose(opengl_to_opencv(opencv_to_opengl(c2w)), c2w)
    assert np.allclose(llff_to_opencv(opencv_to_llff(c2w)), c2w)
    # OpenGL looks down -z: its -z axis is OpenCV's +z.
    assert np.allclose(-opencv_to_opengl(c2w)[:3, 2], c2w[:3, 2])


def test_projection_and_rays_agree():
    K = intrinsics(50.0, 64, 48)
    c2w = look_at(np.array([0.0, -4.0, 1.0]), np.zeros(3))
    cams = Cameras(K[None], c2w[None], np.array([64]), np.array([48]))
    point = np.array([[0.3, 0.2, -0.1]])
    uv, z = cams.project(point, 0)
    origins, dirs = pixel_rays(torch.tensor(K), torch.tensor(c2w), torch.tensor(uv))
    t = z[0] / ray_z_scale(torch.tensor(K), torch.tensor(uv))[0].item()
    assert np.allclose((origins + t * dirs).numpy(), point, atol=1e-9)


def test_normalization_round_trip_and_fit():
    centers = np.random.default_rng(0).normal(size=(10, 3)) * 5 + 10
    norm = fit_normalization(centers)
    normed = norm.apply_points(centers)
    assert np.abs(normed).max() <= 1.0 + 1e-9
    assert np.allclose(norm.invert_points(normed), centers)
    c2w = np.tile(np.eye(4), (10, 1, 1))
    c2w[:, :3, 3] = centers
    assert np.allclose(norm.invert_c2w(norm.apply_c2w(c2w)), c2w)

"""Undistortion: a scene point lands where the pinhole camera K_new projects it (half-pixel convention)."""

from __future__ import annotations

import cv2
import numpy as np

from inpaint3d_core.cameras import intrinsics
from inpaint3d_core.undistort import has_distortion, undistort_image, undistorted_intrinsics

W, H = 96, 72
K = intrinsics(80.0, W, H)
DIST = np.array([-0.15, 0.03, 0.002, -0.001, 0.0, 0.0, 0.0, 0.0])


def _distorted_pixel(point: np.ndarray) -> np.ndarray:
    """Project with OpenCV's distortion model; +0.5 turns OpenCV pixel indices into centre-at-0.5 pixels."""
    K_cv = K.copy()
    K_cv[:2, 2] -= 0.5
    uv, _ = cv2.projectPoints(point[None], np.zeros(3), np.zeros(3), K_cv, DIST)
    return uv.reshape(2) + 0.5


def _blob(center: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    return (255 * np.exp(-((xs - center[0]) ** 2 + (ys - center[1]) ** 2) / (2 * 1.5**2))).astype(np.float32)


def test_undistorted_blob_sits_at_the_pinhole_projection():
    K_new = undistorted_intrinsics(K, DIST, W, H)
    for point in (np.array([0.3, -0.2, 1.0]), np.array([-0.35, 0.25, 1.0])):
        image = _blob(_distorted_pixel(point))
        out = undistort_image(image, K, DIST, K_new)
        ys, xs = np.mgrid[0:H, 0:W] + 0.5
        centroid = np.array([(out * xs).sum(), (out * ys).sum()]) / out.sum()
        expected = (K_new @ point)[:2] / point[2]
        assert np.linalg.norm(centroid - expected) < 0.15


def test_no_black_borders_and_no_op_detection():
    K_new = undistorted_intrinsics(K, DIST, W, H)
    out = undistort_image(np.full((H, W, 3), 200, np.uint8), K, DIST, K_new)
    assert out.min() == 200
    assert has_distortion(DIST) and not has_distortion(np.zeros(8))

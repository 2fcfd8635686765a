"""Lens distortion handled once, at the poses stage: images are resampled to pinhole cameras.

Why undistort instead of carrying distortion into ray generation: every consumer downstream
(NeRF rays, SAM on images, mask projection through points, diffusion priors on views, metrics)
then sees an ideal pinhole camera, and the store's contract stays "K is all you need". The
undistorted image keeps the original size; its new K zooms in just enough that every output
pixel has a source pixel (OpenCV's alpha = 0), so no black borders reach the NeRF.

Pixel convention: the project (like COLMAP) puts pixel centres at +0.5, OpenCV at integers;
the principal point is shifted by half a pixel on the way into OpenCV and back.
"""

from __future__ import annotations

import cv2
import numpy as np

_HALF = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])


def has_distortion(distortion: np.ndarray) -> bool:
    return bool(np.any(np.asarray(distortion) != 0.0))


def undistorted_intrinsics(K: np.ndarray, distortion: np.ndarray, width: int, height: int) -> np.ndarray:
    """The pinhole K of the undistorted image (same size, only valid pixels)."""
    new_cv, _ = cv2.getOptimalNewCameraMatrix(
        _HALF @ K, np.asarray(distortion, dtype=np.float64), (int(width), int(height)), 0.0, (int(width), int(height))
    )
    return np.linalg.inv(_HALF) @ new_cv


def undistort_image(
    pixels: np.ndarray, K: np.ndarray, distortion: np.ndarray, K_new: np.ndarray, nearest: bool = False
) -> np.ndarray:
    """Resample `pixels` (H, W[, C]) seen through (K, distortion) into the pinhole camera K_new."""
    height, width = pixels.shape[:2]
    map_x, map_y = cv2.initUndistortRectifyMap(
        _HALF @ K, np.asarray(distortion, dtype=np.float64), None, _HALF @ K_new, (width, height), cv2.CV_32FC1
    )
    interpolation = cv2.INTER_NEAREST if nearest else cv2.INTER_CUBIC
    return cv2.remap(pixels, map_x, map_y, interpolation, borderMode=cv2.BORDER_REPLICATE)

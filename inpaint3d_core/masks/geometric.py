"""Geometric masks: a 3D sphere or box seen by every camera, and 2D polygons / scribbles.

Why ray tests instead of projecting the shape's outline: a pixel belongs to the mask exactly
when its ray (through the pixel centre) hits the solid in front of the camera. That is correct
for shapes that are partly behind a camera or contain it, where projecting an outline is not.
Coordinates are the normalised scene's; `Normalization.apply_points` maps a capture-space
centre into them (the stage does that when the user gives capture coordinates).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from inpaint3d_core.cameras import Cameras


def pixel_rays(cameras: Cameras, view: int) -> tuple[np.ndarray, np.ndarray]:
    """Camera centre (3,) and unnormalised world directions (H, W, 3) through every pixel centre."""
    w, h = int(cameras.width[view]), int(cameras.height[view])
    xs, ys = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    pix = np.stack([xs, ys, np.ones_like(xs)], axis=-1)
    d_cam = pix @ np.linalg.inv(cameras.K[view]).T
    c2w = cameras.c2w[view]
    return c2w[:3, 3], d_cam @ c2w[:3, :3].T


def sphere_mask(cameras: Cameras, view: int, center: Sequence[float], radius: float) -> np.ndarray:
    """uint8 (H, W): 1 where the pixel's ray meets the sphere at positive depth."""
    origin, dirs = pixel_rays(cameras, view)
    dirs = dirs / np.linalg.norm(dirs, axis=-1, keepdims=True)
    oc = np.asarray(center, dtype=np.float64) - origin
    t_closest = dirs @ oc
    dist2 = (oc @ oc) - t_closest**2
    hit = dist2 <= radius**2
    # The far intersection must lie in front of the camera (covers a camera inside the sphere).
    t_far = t_closest + np.sqrt(np.clip(radius**2 - dist2, 0.0, None))
    return (hit & (t_far > 0)).astype(np.uint8)


def box_mask(cameras: Cameras, view: int, center: Sequence[float], extents: Sequence[float]) -> np.ndarray:
    """uint8 (H, W): 1 where the pixel's ray meets the axis-aligned box (full side lengths `extents`)."""
    origin, dirs = pixel_rays(cameras, view)
    half = 0.5 * np.asarray(extents, dtype=np.float64)
    lo = np.asarray(center, dtype=np.float64) - half - origin
    hi = lo + 2 * half
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / dirs
        t0, t1 = lo * inv, hi * inv
    # Rays parallel to a slab hit it everywhere or nowhere, depending on the origin.
    parallel = dirs == 0
    inside_slab = (lo <= 0) & (hi >= 0)
    t_near = np.where(parallel, np.where(inside_slab, -np.inf, np.inf), np.minimum(t0, t1)).max(axis=-1)
    t_far = np.where(parallel, np.where(inside_slab, np.inf, -np.inf), np.maximum(t0, t1)).min(axis=-1)
    return ((t_near <= t_far) & (t_far > 0)).astype(np.uint8)


def polygon_mask(width: int, height: int, polygons: Sequence[Sequence[Sequence[float]]]) -> np.ndarray:
    """uint8 (H, W): filled polygons given as lists of (x, y) pixel vertices."""
    mask = np.zeros((height, width), np.uint8)
    for poly in polygons:
        pts = np.round(np.asarray(poly, dtype=np.float64) - 0.5).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(mask, [pts], 1)
    return mask


def scribble_mask(width: int, height: int, strokes: Sequence[Sequence[Sequence[float]]], thickness: int) -> np.ndarray:
    """uint8 (H, W): polylines of (x, y) pixel vertices drawn `thickness` pixels wide (a brush)."""
    mask = np.zeros((height, width), np.uint8)
    for stroke in strokes:
        pts = np.round(np.asarray(stroke, dtype=np.float64) - 0.5).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(mask, [pts], False, 1, thickness=max(int(thickness), 1))
        for x, y in pts.reshape(-1, 2):
            cv2.circle(mask, (int(x), int(y)), max(int(thickness), 1) // 2, 1, -1)
    return mask

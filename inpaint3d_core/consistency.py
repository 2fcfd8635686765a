"""Multi-view consistency of generated content, measured without ground truth.

Why: an object-removal result has no ground truth in general, and per-view inpainting can look
fine in every single image while disagreeing between images (the failure the joint method is
meant to fix). If the renders come from one coherent scene, a pixel's colour, carried into a
neighbouring view along its rendered depth, matches what that view renders there. So:

- photometric_l1: for each pixel of a view's mask, unproject it with the rendered depth, project
  into each neighbouring view, keep it if it lands inside the image in front of the camera and
  is not occluded there (its depth agrees with the neighbour's rendered depth within
  `depth_tol`, relative), and average |rgb_i(p) - rgb_j(q)| (colours in [0, 1]). Lower = more
  consistent. This is the reprojection error used to score view-consistent editing/inpainting.
- depth_error: median relative disagreement |depth_j(q) - z_ij| / z_ij over all in-image
  projections (the geometric check of multi-view stereo fusion, e.g. COLMAP's). Lower = the
  rendered geometry of the region agrees between views. The median tolerates true occlusions.
- coverage: fraction of mask pixels that found at least one unoccluded correspondence
  (how much of the region the photometric number speaks for).

Pixel convention as in `inpaint3d_core.cameras`: integer + 0.5 is a pixel centre; depth is
OpenCV z-depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inpaint3d_core.cameras import nearest_views
from inpaint3d_core.errors import InputError


@dataclass(frozen=True)
class RenderedView:
    """One rendered view: rgb (H, W, 3) uint8 or float [0, 1], depth (H, W) z-depth, camera,
    mask (H, W) nonzero = region to score, acc (H, W) opacity (pixels below 0.5 are ignored)."""

    rgb: np.ndarray
    depth: np.ndarray
    K: np.ndarray
    c2w: np.ndarray
    mask: np.ndarray
    acc: np.ndarray | None = None

    def rgb_float(self) -> np.ndarray:
        rgb = np.asarray(self.rgb)
        return (rgb.astype(np.float32) / 255.0) if rgb.dtype == np.uint8 else rgb.astype(np.float32)

    def solid(self) -> np.ndarray:
        ok = np.isfinite(self.depth) & (self.depth > 0)
        return ok if self.acc is None else ok & (np.asarray(self.acc) >= 0.5)


@dataclass(frozen=True)
class PairWarp:
    """Correspondences of view i's mask pixels in view j."""

    source_pixels: np.ndarray  # (M,) flat indices into view i of pixels that landed in view j
    abs_error: np.ndarray  # (M,) mean-over-channels |rgb_i - rgb_j|, only meaningful where visible
    depth_rel: np.ndarray  # (M,) |depth_j(q) - z_ij| / z_ij
    visible: np.ndarray  # (M,) bool, passed the occlusion test


# cv2.remap needs both sides of its map below SHRT_MAX (32767): point lists are laid out in rows.
_REMAP_ROW = 16384


def sample_at(image: np.ndarray, x: np.ndarray, y: np.ndarray, interpolation: int) -> np.ndarray:
    """`image` (H, W[, C]) sampled at pixel coordinates (x, y) (N,) with cv2.remap, for any N.

    A view at 1008x567 with a 40% mask has ~230k points: as one 1xN map that breaks remap's size
    limit, so the points are laid out as rows of `_REMAP_ROW` and the padding dropped afterwards.
    """
    n = x.size
    rows = max(1, -(-n // _REMAP_ROW))
    pad = rows * _REMAP_ROW - n
    map_x = np.pad(x.astype(np.float32), (0, pad)).reshape(rows, _REMAP_ROW)
    map_y = np.pad(y.astype(np.float32), (0, pad)).reshape(rows, _REMAP_ROW)
    out = cv2.remap(image, map_x, map_y, interpolation)
    return out.reshape(rows * _REMAP_ROW, *image.shape[2:])[:n]


def warp_pair(src: RenderedView, dst: RenderedView, depth_tol: float = 0.05) -> PairWarp:
    """Carry the masked pixels of `src` into `dst` along `src`'s rendered depth."""
    height, width = src.depth.shape
    pick = (np.asarray(src.mask) > 0) & src.solid()
    flat = np.flatnonzero(pick)
    rows, cols = np.divmod(flat, width)
    z = src.depth.reshape(-1)[flat].astype(np.float64)
    pix = np.stack([cols + 0.5, rows + 0.5, np.ones_like(z)], axis=0)
    cam = (np.linalg.inv(src.K) @ pix) * z
    world = src.c2w[:3, :3] @ cam + src.c2w[:3, 3:4]
    w2c = np.linalg.inv(dst.c2w)
    cam_j = w2c[:3, :3] @ world + w2c[:3, 3:4]
    z_j = cam_j[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = (dst.K @ cam_j)[:2] / z_j
    dh, dw = dst.depth.shape
    inside = (z_j > 1e-6) & (uv[0] >= 0.5) & (uv[0] <= dw - 0.5) & (uv[1] >= 0.5) & (uv[1] <= dh - 0.5)
    map_x = uv[0][inside] - 0.5
    map_y = uv[1][inside] - 0.5
    if map_x.size == 0:
        empty = np.zeros(0)
        return PairWarp(np.zeros(0, np.int64), empty, empty, np.zeros(0, bool))
    depth_j = sample_at(dst.depth.astype(np.float32), map_x, map_y, cv2.INTER_NEAREST)
    solid_j = sample_at(dst.solid().astype(np.uint8), map_x, map_y, cv2.INTER_NEAREST) > 0
    rgb_j = sample_at(dst.rgb_float(), map_x, map_y, cv2.INTER_LINEAR)
    rgb_i = src.rgb_float().reshape(-1, 3)[flat[inside]]
    zi = z_j[inside]
    depth_rel = np.abs(depth_j - zi) / zi
    visible = solid_j & (depth_rel <= depth_tol)
    return PairWarp(flat[inside], np.abs(rgb_i - rgb_j).mean(axis=1), depth_rel, visible)


def multiview_consistency(views: list[RenderedView], neighbours: int = 2, depth_tol: float = 0.05) -> dict:
    """Consistency of the masked region over a set of rendered views (see module docstring).

    Returns {"photometric_l1", "depth_error", "coverage", "pairs", "per_view": [...]}, where a
    measure is None when no correspondence could be formed (e.g. every mask empty).
    """
    if len(views) < 2:
        raise InputError(f"consistency needs at least 2 rendered views with masks, got {len(views)}")
    for i, view in enumerate(views):
        if view.depth.shape != view.rgb.shape[:2] or view.mask.shape != view.depth.shape:
            raise InputError(f"consistency: view {i} rgb/depth/mask sizes disagree")
    c2w = np.stack([v.c2w for v in views])
    errors_all, depth_all = [], []
    covered_total = masked_total = pairs = 0
    per_view = []
    for i, neigh in enumerate(nearest_views(c2w, neighbours)):
        masked = int(((views[i].mask > 0) & views[i].solid()).sum())
        if masked == 0:
            per_view.append({"view": i, "photometric_l1": None, "coverage": None})
            continue
        covered = np.zeros(views[i].depth.size, bool)
        errs = []
        for j in neigh:
            warp = warp_pair(views[i], views[j], depth_tol)
            pairs += 1
            errs.append(warp.abs_error[warp.visible])
            depth_all.append(warp.depth_rel)
            covered[warp.source_pixels[warp.visible]] = True
        view_errors = np.concatenate(errs)
        errors_all.append(view_errors)
        covered_total += int(covered.sum())
        masked_total += masked
        per_view.append(
            {
                "view": i,
                "photometric_l1": float(view_errors.mean()) if view_errors.size else None,
                "coverage": float(covered.sum() / masked),
            }
        )
    errors = np.concatenate(errors_all) if errors_all else np.zeros(0)
    depths = np.concatenate(depth_all) if depth_all else np.zeros(0)
    return {
        "photometric_l1": float(errors.mean()) if errors.size else None,
        "depth_error": float(np.median(depths)) if depths.size else None,
        "coverage": float(covered_total / masked_total) if masked_total else None,
        "pairs": pairs,
        "per_view": per_view,
    }

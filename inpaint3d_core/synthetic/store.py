"""Filling a scene store's ingest, poses and masks groups straight from a synthetic scene.

Why: tests and benchmarks of the later stages (masks, inpainting, rendering, evaluation) need a
ready store with exact cameras and ground truth, without paying for ingest and COLMAP. The
groups are written through `run_stage`, so their records and fingerprints are real and the
downstream stages treat them like any other upstream result. Layout: `inpaint3d_core/scene.py`.
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from inpaint3d_core.cameras import Cameras, fit_normalization
from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.scene import INGEST, MASKS, POSES, write_masks
from inpaint3d_core.stage import StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import SceneStore, write_views
from inpaint3d_core.synthetic.config import SyntheticConfig
from inpaint3d_core.synthetic.scene import SyntheticScene, depth_samples

INGEST_SPEC = StageSpec(INGEST, 1)
POSES_SPEC = StageSpec(POSES, 1, upstream=(INGEST,))
MASKS_SPEC = StageSpec(MASKS, 1, upstream=(INGEST, POSES))

# A point is seen by a view when its projected depth agrees with that view's depth map this well.
_VISIBILITY_TOLERANCE = 0.01


class SyntheticStoreConfig(StageConfig):
    """How a synthetic scene was turned into store groups (recorded in each group's record)."""

    scene: SyntheticConfig = Field(description="Generator config of the synthetic scene.")
    n_points: int = Field(4000, ge=10, description="Sparse points sampled from the depth maps before track filtering.")
    points_seed: int = Field(0, description="Seed for choosing the sparse points' pixels.")
    dilate_px: int = Field(2, ge=0, description="Radius in pixels of the dilation from raw to dilated masks.")


def write_store(
    scene: SyntheticScene, store: SceneStore, n_points: int = 4000, dilate_px: int = 2, force: bool = False
) -> list[StageResult]:
    """Write the ingest, poses and masks groups of `store` for `scene` (skipped when up to date)."""
    config = SyntheticStoreConfig(scene=scene.config, n_points=n_points, dilate_px=dilate_px)
    return [
        run_stage(store, INGEST_SPEC, config, lambda ctx: _ingest(ctx, scene), force),
        run_stage(store, POSES_SPEC, config, lambda ctx: _poses(ctx, scene, config), force),
        run_stage(store, MASKS_SPEC, config, lambda ctx: _masks(ctx, scene, config), force),
    ]


def _ingest(ctx: StageContext, scene: SyntheticScene) -> dict:
    write_views(ctx.group, "images", list(scene.images))
    write_views(ctx.group, "gt_images", list(scene.gt_images))
    write_views(ctx.group, "gt_masks", list(scene.masks))
    ctx.group.attrs["views"] = [
        {
            "name": name,
            "source": f"images/{name}.png",
            "width": scene.config.width,
            "height": scene.config.height,
            "scale": 1.0,
            "role": "train",
        }
        for name in scene.names
    ]
    ctx.group.attrs["capture"] = f"synthetic (seed {scene.config.seed})"
    ctx.group.attrs["skipped"] = []
    return {"views": len(scene), "width": scene.config.width, "height": scene.config.height}


def visible_tracks(cameras: Cameras, depth: np.ndarray, xyz: np.ndarray) -> np.ndarray:
    """(P, N) bool: which views see each world point (inside the image, and not occluded
    according to that view's exact depth map)."""
    n_views, height, width = depth.shape
    seen = np.zeros((len(xyz), n_views), dtype=bool)
    for view in range(n_views):
        uv, z = cameras.project(xyz, view)
        with np.errstate(invalid="ignore"):
            px, py = np.floor(uv[:, 0]).astype(np.int64), np.floor(uv[:, 1]).astype(np.int64)
        inside = (z > 0) & (px >= 0) & (px < width) & (py >= 0) & (py < height)
        stored = np.full(len(xyz), np.nan)
        stored[inside] = depth[view, py[inside], px[inside]]
        seen[:, view] = inside & (np.abs(stored - z) <= _VISIBILITY_TOLERANCE * z)
    return seen


def _poses(ctx: StageContext, scene: SyntheticScene, config: SyntheticStoreConfig) -> dict:
    """Exact cameras, normalised like the COLMAP path does, and COLMAP-like sparse points: points
    of the with-object views (what SfM would see) kept when at least two views see them."""
    cams = scene.cameras
    xyz, rgb, _ = depth_samples(scene, config.n_points, with_object=True, seed=config.points_seed)
    seen = visible_tracks(cams, scene.depth, xyz)
    keep = seen.sum(axis=1) >= 2
    xyz, rgb, seen = xyz[keep], rgb[keep], seen[keep]
    norm = fit_normalization(cams.centers, xyz)

    # Near: closest z-depth; far: farthest distance along a ray, so the range holds either reading.
    n_views, height, width = scene.depth.shape
    near_far = np.empty((n_views, 2), dtype=np.float32)
    for view in range(n_views):
        K = cams.K[view]
        gx, gy = np.meshgrid(
            (np.arange(width) + 0.5 - K[0, 2]) / K[0, 0], (np.arange(height) + 0.5 - K[1, 2]) / K[1, 1]
        )
        ray_length = np.sqrt(gx * gx + gy * gy + 1.0)
        near_far[view] = (0.9 * scene.depth[view].min(), 1.1 * (scene.gt_depth[view] * ray_length).max())
    near_far *= norm.scale

    group = ctx.group
    group.create_array("K", data=cams.K.astype(np.float64))
    group.create_array("c2w", data=norm.apply_c2w(cams.c2w))
    group.create_array("registered", data=np.ones(n_views, dtype=bool))
    group.create_array("near_far", data=near_far)
    points = group.create_group("points")
    points.create_array("xyz", data=norm.apply_points(xyz).astype(np.float32))
    points.create_array("rgb", data=rgb.astype(np.uint8))
    points.create_array("track_views", data=np.nonzero(seen)[1].astype(np.int32))
    points.create_array("track_offsets", data=np.concatenate([[0], np.cumsum(seen.sum(axis=1))]).astype(np.int64))
    group.attrs["normalization"] = norm.to_dict()
    group.attrs["method"] = "synthetic"
    group.attrs["camera_model"] = "PINHOLE"
    return {"registered": n_views, "points": len(xyz), "mean_track_length": float(seen.sum(axis=1).mean())}


def _masks(ctx: StageContext, scene: SyntheticScene, config: SyntheticStoreConfig) -> dict:
    size = 2 * config.dilate_px + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    dilated = [cv2.dilate(mask, kernel) for mask in scene.masks]
    write_masks(ctx.group, list(scene.images), list(scene.names), list(scene.masks), dilated, method="synthetic")
    return {"mean_area": float(np.mean(ctx.group.attrs["area"])), "dilate_px": config.dilate_px}

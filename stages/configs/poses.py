"""The poses stage's config (`stages.poses` runs it): torch-free, so the CLI builds its options from it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inpaint3d_core.config_types import CameraModel, StageConfig


class Config(StageConfig):
    source: Literal["auto", "estimate", "colmap", "transforms", "llff"] = Field(
        "auto", description="Where poses come from: 'auto' imports a pose file found at ingest, else estimates."
    )
    matcher: Literal["auto", "exhaustive", "sequential", "spatial"] = Field(
        "auto", description="COLMAP matching; 'auto' = exhaustive up to exhaustive_max_views, else sequential."
    )
    exhaustive_max_views: int = Field(60, ge=2, description="Largest view count matched exhaustively in 'auto'.")
    mapper: Literal["incremental", "global"] = Field("incremental", description="COLMAP incremental or global SfM.")
    camera_model: CameraModel = Field("SIMPLE_RADIAL", description="COLMAP camera model for estimation.")
    intrinsics: Literal["auto", "single", "per_image"] = Field(
        "auto", description="Shared or per-view intrinsics; 'auto' shares them when all views have one size."
    )
    focal_px: float | None = Field(
        None, gt=0, description="Known focal length in pixels of the ingested images (kept fixed); None estimates it."
    )
    sfm_max_side: int | None = Field(
        1600, ge=64, description="COLMAP runs on copies downscaled to this longer side (K is rescaled back)."
    )
    max_features: int = Field(8192, ge=128, description="Most SIFT features per image.")
    peak_threshold: float = Field(
        0.002, gt=0, description="SIFT peak threshold (COLMAP's default 0.0067 finds too few on smooth textures)."
    )
    vocab_tree: str | None = Field(None, description="COLMAP vocabulary tree file: enables loop detection.")
    sequential_overlap: int = Field(10, ge=1, description="Sequential matching: pair each view with this many next.")
    sequential_quadratic: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Sequential matching: also pair views 2^k apart (bridges gaps, but folds scenes with "
        "repetitive textures); 'auto' adds them only when neighbours alone leave >10% of views unregistered.",
    )
    min_registered_fraction: float = Field(
        0.5, ge=0.0, le=1.0, description="Fail when fewer than this fraction of the views register."
    )
    min_registered: int = Field(3, ge=2, description="Fail when fewer than this many views register.")
    triangulate_neighbours: int = Field(
        8,
        ge=1,
        description="Imported poses with matcher 'auto': match each view with this many nearest cameras (by "
        "centre and viewing direction) before triangulating; the poses are known, so far pairs add no points.",
    )
    triangulate_max_side: int = Field(
        1024, ge=64, description="Imported poses: points are triangulated on copies downscaled to this longer side."
    )
    radius: float = Field(
        1.0, gt=0, description="Normalised scene: cameras and the bulk of the points fit this radius."
    )

"""The ingest stage's config (`stages.ingest` runs it): torch-free, so the CLI builds its options from it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inpaint3d_core.config_types import StageConfig

# Longer side of the views a quick (CPU) run works on: 2 cores train and render ~100 views at
# this size in minutes, at 1000 px it would take hours.
QUICK_MAX_SIDE = 160


class Config(StageConfig):
    capture: str = Field(description="Capture: a folder of photos, an LLFF/SPIn-NeRF/synthetic folder, or a video.")
    layout: Literal["auto", "images", "video", "synthetic", "llff"] = Field(
        "auto", description="Capture layout; 'auto' detects it from the folder's contents."
    )
    max_side: int | None = Field(
        None, ge=16, description="Downscale so the longer side is at most this many pixels (None keeps full size)."
    )
    apply_exif: bool = Field(True, description="Turn photos upright with their EXIF orientation tag.")
    llff_factor: int | None = Field(
        None, ge=1, description="LLFF: use images_N/ with this N (default: the smallest resolution present)."
    )
    video_frames: int = Field(60, ge=2, description="Video: about this many frames (sharpest per window).")
    duplicate_threshold: float = Field(
        0.01, ge=0.0, description="Video: frames whose thumbnail differs from the last kept one by less are skipped."
    )
    min_views: int = Field(3, ge=1, description="Fewer usable views than this is an error.")
    protocol: Literal["none", "spinnerf"] = Field(
        "none", description="'spinnerf': the first n_gt images (sorted) are object-free test views."
    )
    n_gt: int = Field(40, ge=0, description="SPIn-NeRF protocol: number of test views (first in sorted order).")
    preset: Literal["quick", "full", "thorough"] | None = Field(
        None,
        description=f"The job's preset: with 'quick' (the CPU preset) and no max_side, views are downscaled to "
        f"{QUICK_MAX_SIDE} px on the longer side, the size quick runs are made for; the summary says so.",
    )

    @property
    def effective_max_side(self) -> int | None:
        """`max_side`, or the quick preset's size when the job runs quick and none was given."""
        if self.max_side is None and self.preset == "quick":
            return QUICK_MAX_SIDE
        return self.max_side

"""The render stage's config (`stages.render` runs it): torch-free, so the CLI builds its options from it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inpaint3d_core.config_types import PathKind, StageConfig

CompareMode = Literal["auto", "warmup", "captured", "none"]


class Config(StageConfig):
    """What to render and how the videos look."""

    path: PathKind = Field(
        "interpolate",
        description="Camera path of the videos: 'interpolate' (spline through the input cameras), "
        "'orbit' (circle around the looked-at point), 'spiral' (forward-facing captures).",
    )
    n_frames: int = Field(60, ge=2, description="Frames along the camera path.")
    fps: float = Field(24.0, gt=0, description="Frames per second of the path videos.")
    width: int | None = Field(
        None, ge=16, description="Width in pixels of the path videos (aspect kept); None = the first view's width."
    )
    compare: CompareMode = Field(
        "auto",
        description="Before/after video: 'captured' = the photos, object and mask outline included, beside the "
        "renders at the input cameras in path order; 'warmup' = the inpaint stage's warm-up field beside the final "
        "one along the path (the warm-up never saw the masked rays, so it shows no object either); 'auto' = "
        "captured; 'none' = no comparison video.",
    )
    keep_frames: bool = Field(True, description="Also store the path frames losslessly (for `export --format frames`).")
    depth_cmap: Literal["turbo", "viridis", "magma", "inferno", "plasma", "gray"] = Field(
        "turbo", description="Matplotlib colour map of the depth video (applied to inverse depth)."
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to render: 'auto' = CUDA when present.")

"""The evaluate stage's config (`stages.evaluate` runs it): torch-free, so the CLI builds its options from it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from inpaint3d_core.config_types import LpipsNet, StageConfig


class Config(StageConfig):
    """How the renders are scored."""

    scored_views: Literal["auto", "test", "all"] = Field(
        "auto",
        description="Views scored against ground truth: 'test' (held-out views, SPIn-NeRF), 'all' (every rendered "
        "view with ground truth), 'auto' = test views when the capture has any, else all.",
    )
    neighbours: int = Field(2, ge=1, description="Consistency: neighbouring views each view is warped into.")
    depth_tol: float = Field(
        0.05, gt=0, description="Consistency: relative depth disagreement above which a warped pixel is occluded."
    )
    lpips: bool = Field(True, description="Report LPIPS when its backbone weights are on disk (never downloaded).")
    lpips_net: LpipsNet = Field("alex", description="LPIPS backbone (torchmetrics names).")
    stills: int = Field(4, ge=0, description="Views shown as still pictures in the report.")

"""What stage configs are built from: the `StageConfig` base and the closed choices the library
accepts (COLMAP camera models, camera paths, LPIPS backbones, SAM variants).

Torch-free (pydantic and typing only) so that every stage config, and the CLI options built
from them, import in a fraction of a second; the modules that use these choices import them
from here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

CameraModel = Literal["SIMPLE_PINHOLE", "PINHOLE", "SIMPLE_RADIAL", "RADIAL", "OPENCV"]
PathKind = Literal["interpolate", "orbit", "spiral"]
LpipsNet = Literal["alex", "vgg", "squeeze"]
SamModelType = Literal["auto", "vit_b", "vit_l", "vit_h"]


class StageConfig(BaseModel):
    """Base for stage configs: unknown keys are errors (a typo must not silently do nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

"""The masks stage's config (`stages.masks` runs it): torch-free, so the CLI builds its options from it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from inpaint3d_core.config_types import SamModelType, StageConfig
from inpaint3d_core.masks.config import PropagationSettings

Method = Literal["auto", "import", "propagate", "sam", "sphere", "box", "polygon"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ViewPrompt(_Strict):
    """SAM prompts on one view, in that view's pixel coordinates (of the ingested image)."""

    view: str = Field(description="View: source file stem (e.g. IMG_0001), view name, or index.")
    points: tuple[tuple[float, float], ...] = Field((), description="Clicked points (x, y).")
    labels: tuple[Literal[0, 1], ...] = Field((), description="Per point: 1 = on the object, 0 = background.")
    box: tuple[float, float, float, float] | None = Field(None, description="Box (x0, y0, x1, y1) around the object.")


class ViewDrawing(_Strict):
    """2D shapes drawn on one view (pixel coordinates)."""

    view: str = Field(description="View: source file stem, view name, or index.")
    polygons: tuple[tuple[tuple[float, float], ...], ...] = Field((), description="Filled polygons of (x, y).")
    strokes: tuple[tuple[tuple[float, float], ...], ...] = Field((), description="Brush strokes of (x, y).")
    brush_px: int = Field(9, ge=1, description="Brush width of the strokes in pixels.")


class Config(StageConfig):
    method: Method = Field("auto", description="Mask source; 'auto' picks from the options given (see module doc).")
    mask_dir: str | None = Field(None, description="Folder of mask images named like the views (method import).")
    mask_threshold: int = Field(127, ge=0, le=254, description="Grey level above which a mask pixel is set.")
    missing_masks: Literal["error", "unmasked"] = Field(
        "error",
        description="Import: a training view with no mask file is an error naming the views (default), or is "
        "trained unmasked ('unmasked': the region stays visible in that view).",
    )
    reference_masks: tuple[str, ...] = Field(
        (), description="Mask images of a few views (matched by file stem), propagated to all views."
    )
    prompts: tuple[ViewPrompt, ...] = Field((), description="SAM prompts on one or a few reference views.")
    sam_checkpoint: str | None = Field(
        None, description="SAM checkpoint (.pth or .safetensors); with propagation it also refines every view."
    )
    sam_model: SamModelType = Field("auto", description="SAM variant the checkpoint must hold; auto = any.")
    sam_refine: bool = Field(
        True, description="With a SAM checkpoint, also refine every propagated view (one SAM pass per view)."
    )
    sphere: tuple[float, float, float, float] | None = Field(None, description="3D sphere: centre x, y, z and radius.")
    box: tuple[float, float, float, float, float, float] | None = Field(
        None, description="3D axis-aligned box: centre x, y, z and side lengths x, y, z."
    )
    coordinates: Literal["capture", "normalized"] = Field(
        "capture", description="Frame of sphere/box: the capture's own coordinates or the normalised scene's."
    )
    drawings: tuple[ViewDrawing, ...] = Field((), description="Polygons / scribbles on some views (method polygon).")
    dilate_px: int = Field(4, ge=0, le=256, description="Dilation radius from raw to dilated masks, in pixels.")
    max_area_fraction: float = Field(
        0.9, gt=0.0, le=1.0, description="Masks covering more of a view than this are reported as suspicious."
    )
    max_area_ratio: float = Field(
        1.5,
        gt=1.0,
        description="Propagated masks covering more than this many times the reference masks' share of their view "
        "are reported: a mask that grew onto the background behind the object.",
    )
    propagation: PropagationSettings = Field(
        default_factory=PropagationSettings, description="How masks are carried through 3D between views."
    )

    @model_validator(mode="after")
    def _method_has_inputs(self) -> Config:
        needs = {
            "import": ("mask_dir", self.mask_dir),
            "propagate": ("reference_masks", self.reference_masks),
            "sam": ("prompts and sam_checkpoint", self.prompts and self.sam_checkpoint),
            "sphere": ("sphere", self.sphere),
            "box": ("box", self.box),
            "polygon": ("drawings", self.drawings),
        }
        if self.method in needs and not needs[self.method][1]:
            raise ValueError(f"method '{self.method}' needs {needs[self.method][0]}")
        if self.sphere is not None and self.sphere[3] <= 0:
            raise ValueError("sphere radius must be positive")
        if self.box is not None and min(self.box[3:]) <= 0:
            raise ValueError("box side lengths must be positive")
        for prompt in self.prompts:
            if len(prompt.points) != len(prompt.labels):
                raise ValueError(
                    f"prompt for view {prompt.view}: {len(prompt.points)} points, {len(prompt.labels)} labels"
                )
        return self

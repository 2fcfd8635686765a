"""Settings of the 3D mask propagation: torch- and OpenCV-free, so the masks stage's config (and
the CLI options built from it) import without the propagation's dependencies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PropagationSettings(BaseModel):
    """Knobs of the 3D propagation; the defaults suit synthetic scenes and turntable/orbit captures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_erode: float = Field(
        0.005,
        ge=0.0,
        description="Erode reference masks by this fraction of the image size before picking visible seeds, "
        "so edge pixels do not grab background.",
    )
    min_seed_points: int = Field(8, ge=3, description="Fewest visible points a reference mask must select.")
    depth_slab: float = Field(
        1.0, ge=0.0, description="Depth behind the seeds (in units of the seeds' width) that still counts as object."
    )
    plane_tolerance: float = Field(
        0.02, gt=0.0, description="Distance to a support plane (fraction of the object's size) treated as on it."
    )
    plane_contrast: float = Field(
        3.0,
        gt=0.0,
        description="A support plane's slab, away from the object, holds this many times the points of an "
        "equally thick slab beside it (a real surface, not a slice through clutter).",
    )
    grow_factor: float = Field(
        1.5, ge=0.0, description="Hop length (in units of the seeds' point spacing) when growing into unseen parts."
    )
    grow_sparse_limit: float = Field(
        4.0,
        ge=1.0,
        description="Inside the reference mask's cone, where points are sparser, hops may lengthen with the local "
        "spacing up to this many times the grow hop.",
    )
    grow_limit: float = Field(
        1.5, ge=0.0, description="Growth stays within this many object sizes of the seeds' centre."
    )
    max_planes: int = Field(2, ge=0, description="At most this many support planes (floor, wall) are removed.")
    alpha_factor: float = Field(
        4.0, gt=0.0, description="Alpha-shape edge limit in units of the median projected point spacing."
    )
    alpha_fraction: float = Field(
        0.15, ge=0.0, description="Alpha-shape edge limit at least this fraction of the projected object's size."
    )
    closing_px: int = Field(2, ge=0, description="Morphological closing of the projected silhouette.")
    occluder_gap: float = Field(
        0.1, ge=0.0, description="An occluder is at least this far (fraction of the object's size) from the object."
    )
    occluder_clearance: float = Field(
        0.5,
        ge=0.0,
        description="Outside the reference mask's cone, points join the object only where the reference view "
        "sees a surface at least this far (fraction of the object's size) in front of the object's front.",
    )
    min_occluder_points: int = Field(
        5, ge=1, description="Fewest visible points a cluster needs to be carved out as an occluder."
    )
    unexplained_reach: float = Field(
        0.3, ge=0.0, description="How far (fraction of the silhouette's size) unexplained pixels are claimed."
    )
    min_background_cover: float = Field(
        0.5, ge=0.0, le=1.0, description="Claim only where visible points cover this much of the surroundings."
    )
    image_refine: Literal["grabcut", "none"] = Field(
        "grabcut",
        description="Snap each projected silhouette to the image's object outline within a band (GrabCut, no "
        "weights) when images are given; 'none' keeps the bare projection.",
    )
    refine_band: float = Field(
        0.15, ge=0.0, description="Half-width of the band the outline may move in (fraction of the silhouette's size)."
    )
    refine_iterations: int = Field(3, ge=1, description="GrabCut iterations per view.")
    refine_max_size: int = Field(
        256,
        ge=16,
        description="GrabCut works on a copy scaled so the silhouette is at most this many pixels across (speed); "
        "the one-pixel rim is still decided at full size.",
    )
    rim_min_coverage: float = Field(
        0.25,
        gt=0.0,
        le=1.0,
        description="A pixel just outside the refined outline joins when the object covers at least this much of "
        "it (estimated from the local object and background colours).",
    )
    refine_min_agreement: float = Field(
        0.75, ge=0.0, le=1.0, description="Below this IoU with the projection, the image refinement is rejected."
    )
    refine_max_growth: float = Field(
        0.15, ge=0.0, description="An image refinement that grows the projection's area by more than this is rejected."
    )
    refine_max_reference_ratio: float = Field(
        1.4,
        gt=0.0,
        description="An image refinement that grows a mask past this many times the reference masks' share of "
        "their view is rejected.",
    )
    refine_max_background: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="An image refinement covering more than this share of the visible points that lie clearly "
        "behind the object around the projection is rejected (edge pixels the object only tints hold a few).",
    )
    depth_tolerance: float = Field(0.03, ge=0.0, description="Relative depth slack of the visibility test.")
    free_space_views: int = Field(
        2,
        ge=1,
        description="A hidden point in the reference cone stands behind the object when this many views see "
        "through some stretch of its reference ray between the object's front and it.",
    )
    free_space_samples: int = Field(8, ge=1, description="Samples along each such stretch.")
    free_space_margin: float = Field(
        0.05, ge=0.0, description="The stretch stops this far (fraction of the object's size) from either end."
    )
    sam_positive_points: int = Field(6, ge=1, description="Positive SAM prompts per view.")
    sam_negative_points: int = Field(6, ge=0, description="Negative SAM prompts per view.")
    sam_min_agreement: float = Field(
        0.6, ge=0.0, le=1.0, description="Below this IoU with the projection, SAM's mask is rejected for a view."
    )

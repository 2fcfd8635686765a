"""Configuration of the joint optimisation: one flat, typed config plus named presets.

Presets follow gsplat's idea: a preset fixes sizes (field, batch, samples) for a device class and
every step count scales together with `steps_scale`, so a 10x shorter smoke run keeps the same
proportions of warm-up, joint phase and checkpoint interval.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from inpaint3d_core.nerf.config import FieldConfig, RenderSettings

PresetName = Literal["quick", "full", "thorough"]


class LossWeights(BaseModel):
    """Weight of each loss term (0 switches a term off)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rgb: float = Field(1.0, description="Photometric MSE on rays through unmasked pixels.", ge=0)
    sds: float = Field(0.05, description="Score distillation in the hole (surrogate normalised per hole pixel).", ge=0)
    depth: float = Field(0.1, description="Hole rays pulled toward the depth filled in from around the hole.", ge=0)
    freespace: float = Field(0.05, description="Hole rays: opacity in front of the filled depth (floaters).", ge=0)
    opacity: float = Field(0.01, description="Hole rays: (1 - accumulated opacity)^2 (holes must be filled).", ge=0)


class ExpansionConfig(BaseModel):
    """Which virtual cameras grow the scene and how far (used by the inpaint stage's expansion task)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cameras: Literal["wider", "extend", "both"] = Field(
        "both", description="Virtual cameras: wider twins of input views, cameras extending the path, or both."
    )
    fov_factor: float = Field(
        1.5, ge=1.0, le=4.0, description="Wider views: image side x this at the same focal length (how far out)."
    )
    wider_views: int = Field(4, ge=0, description="Wider views: how many input views get one (evenly spread).")
    extend_views: int = Field(2, ge=0, description="Extended path: virtual cameras added beyond each end.")
    extend_step: float = Field(
        1.0, gt=0.0, le=5.0, description="Extended path: spacing of the added cameras, in units of the path's end step."
    )
    acc_threshold: float = Field(
        0.5, gt=0.0, lt=1.0, description="Virtual pixels rendered less opaque than this after warm-up are unobserved."
    )
    dilate_px: int = Field(2, ge=0, le=64, description="Dilation of the unobserved mask, in pixels.")
    opacity_weight: float = Field(
        1.0,
        ge=0.0,
        description="Weight of (1 - accumulated opacity)^2 on virtual-hole rays. Unseen space has no photo to make "
        "it opaque, so the removal default (0.01) leaves half of it transparent (CPU quick run: opacity coverage "
        "0.50 at 0.01, >= 0.9 at 1.0).",
    )
    min_hole_fraction: float = Field(
        0.01, ge=0.0, lt=1.0, description="Virtual views whose hole covers less than this are not used."
    )
    object_masks: Literal["ignore", "inpaint"] = Field(
        "ignore",
        description="The masks stage's regions in the captured views: ignore (reconstruct them as captured) or "
        "inpaint them too (removal and expansion at once).",
    )


class JointConfig(BaseModel):
    """Everything the trainer needs; the stage builds it from a preset and the user's overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(description="Total optimisation steps (warm-up included).", ge=1)
    warmup_steps: int = Field(description="Reconstruction-only steps before SDS and depth terms start.", ge=0)
    rays_per_batch: int = Field(description="Rays from unmasked pixels per step.", ge=1)
    hole_rays_per_batch: int = Field(description="Rays from hole pixels per step (depth/floater terms).", ge=0)
    sds_every: int = Field(1, description="Run an SDS step every this many joint steps.", ge=1)
    sds_views_per_step: int = Field(1, description="Views (crops) batched into one SDS call.", ge=1)
    sds_render_resolution: int | None = Field(
        None,
        description="Render the SDS crop at this side and upsample to the prior's resolution (None = prior's).",
        ge=8,
    )
    lr: float = Field(1e-2, description="Adam learning rate at the start.", gt=0)
    lr_final_factor: float = Field(0.1, description="Learning rate at the end, as a fraction of `lr`.", gt=0, le=1)
    weights: LossWeights = Field(default_factory=LossWeights, description="Loss term weights.")
    depth_fill: Literal["harmonic_disparity", "none"] = Field(
        "harmonic_disparity",
        description="How the hole's depth target is made from the warm-up depth around it ('none' = no depth terms).",
    )
    sds_region: Literal["unobserved", "mask"] = Field(
        "unobserved",
        description="Where SDS paints: the hole pixels no other view observes (the observed rest keeps the "
        "warm-up reconstruction, see joint.visibility), or the whole mask as in the paper.",
    )
    hole_terms: Literal["hole", "unobserved"] = Field(
        "hole",
        description="Hole rays of the depth, free-space and opacity terms: every hole pixel, or only those no other "
        "view observes (sds_region 'unobserved'), leaving the observed part's geometry to the views that see it.",
    )
    visibility_max_side: int = Field(
        256, ge=16, description="The visibility test renders every training view at most this many px on a side."
    )
    random_background: bool = Field(
        True,
        description="Composite each training ray's colour over a random background colour (as nerfstudio does): "
        "an empty ray then no longer matches a dark pixel, so dark surfaces are learned as opaque, not as the "
        "black render background. Renders for output keep render.background.",
    )
    freespace_margin: float = Field(
        0.1, description="Free-space loss counts opacity closer than (1 - margin) x target depth.", ge=0, lt=1
    )
    checkpoint_every: int = Field(200, description="Save a resumable checkpoint every this many steps.", ge=1)
    max_bad_steps: int = Field(20, description="Stop after this many consecutive steps with NaN/inf.", ge=1)
    near_scale: float = Field(0.8, description="Near plane = this x the smallest near bound of the poses.", gt=0)
    far_scale: float = Field(1.5, description="Far plane = this x the largest far bound of the poses.", gt=0)
    seed: int = Field(0, description="Seed of ray sampling and initialisation.")
    field: FieldConfig = Field(default_factory=FieldConfig, description="Radiance field architecture.")
    render: RenderSettings = Field(default_factory=RenderSettings, description="Ray sampling settings.")


_PRESETS: dict[str, dict] = {
    # CPU, 48-96 px synthetic scenes: the NeRF part in a few minutes on 2 cores.
    "quick": {
        "steps": 400,
        "warmup_steps": 200,
        "lr": 3e-2,  # short runs: a faster start measurably helps (60-step fit MSE 0.015 -> 0.008)
        "rays_per_batch": 384,
        "hole_rays_per_batch": 64,
        "sds_every": 2,
        "checkpoint_every": 100,
        "field": FieldConfig(
            levels=8,
            log2_table_size=15,
            base_resolution=8,
            max_resolution=256,
            hidden_dim=32,
            color_hidden_dim=32,
            sh_degree=3,
        ),
        "render": RenderSettings(sampler="stratified", num_coarse=16, num_fine=16),
    },
    # One CUDA GPU, 256-1000 px captures: the default GPU preset. A 100-view 1008x567 capture runs
    # every stage in under 10 minutes on one H200 (benchmarks/e2e_gpu.py). The stratified sampler
    # has a fixed cost per ray (the occupancy grid marched up to ~1000 samples per ray until its
    # grid was pruned: 49 GB in one run); the compiled field makes 64 samples per ray cheap.
    "full": {
        "steps": 6000,
        "warmup_steps": 2000,
        "rays_per_batch": 8192,
        "hole_rays_per_batch": 2048,
        "sds_every": 1,
        "checkpoint_every": 1000,
        "field": FieldConfig(appearance_dim=16),
        "render": RenderSettings(sampler="stratified", num_coarse=32, num_fine=32),
    },
    # The GPU preset before the real-size work (2026-11): more steps, the occupancy grid. Kept to
    # compare against; 25-45 minutes per run before the compiled field.
    "thorough": {
        "steps": 8000,
        "warmup_steps": 2500,
        "rays_per_batch": 8192,
        "hole_rays_per_batch": 2048,
        "sds_every": 1,
        "checkpoint_every": 1000,
        "field": FieldConfig(appearance_dim=16),
        "render": RenderSettings(sampler="auto"),
    },
}


def preset(name: PresetName, steps_scale: float = 1.0, **overrides) -> JointConfig:
    """The named preset with every step count multiplied by `steps_scale`, then `overrides` applied."""
    if name not in _PRESETS:
        raise ValueError(f"unknown preset {name!r}: use one of {sorted(_PRESETS)}")
    base = dict(_PRESETS[name])
    for key in ("steps", "warmup_steps", "checkpoint_every"):
        base[key] = max(1 if key != "warmup_steps" else 0, round(base[key] * steps_scale))
    base.update(overrides)
    return JointConfig(**base)

"""The inpaint stage's config (`stages.inpaint` runs it): torch-free, so the CLI builds its options from it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.edit_tasks import Task
from inpaint3d_core.joint.config import ExpansionConfig, LossWeights, PresetName
from inpaint3d_core.priors.config import PriorConfig, SDSConfig


class Config(StageConfig):
    """How the inpaint stage trains: preset, method, prior, SDS, loss weights, task."""

    preset: PresetName = Field(
        "quick",
        description="Sizes and step counts: quick (CPU, minutes), full (GPU, a 100-view 1008x567 capture in "
        "minutes) or thorough (GPU, the longer pre-2026-12 full preset).",
    )
    steps_scale: float = Field(1.0, description="Multiplies every step count of the preset.", gt=0)
    method: Literal["joint", "recon_only", "per_view", "classical"] = Field(
        "joint", description="joint (the method) or a baseline: recon_only, per_view, classical."
    )
    prior: PriorConfig = Field(
        default_factory=PriorConfig,
        description="The 2D inpainting prior (kind, model, prompts, guidance); its internal_preset and seed "
        "follow the stage's preset and seed unless given.",
    )
    sds: SDSConfig = Field(
        default_factory=SDSConfig, description="Score distillation: timestep range and annealing, gradient clipping."
    )
    weights: LossWeights = Field(default_factory=LossWeights, description="Loss term weights.")
    depth_supervision: bool = Field(True, description="Fill the hole's depth from the warm-up and supervise it.")
    sds_region: Literal["unobserved", "mask"] = Field(
        "unobserved",
        description="Where SDS paints: hole pixels no other view observes (default), or the whole mask (the paper).",
    )
    random_background: bool = Field(
        True,
        description="Train against a random background colour per ray, so dark surfaces are not learned as "
        "empty space (output renders keep their fixed background).",
    )
    hole_terms: Literal["hole", "unobserved"] = Field(
        "hole",
        description="Depth, free-space and opacity terms on every hole pixel, or only where no other view observes "
        "(with sds_region unobserved): the observed part's geometry is then left to the views that see it.",
    )
    rays_per_batch: int | None = Field(None, description="Override the preset's rays per step.", ge=1)
    sampler: Literal["auto", "stratified", "occupancy"] | None = Field(
        None,
        description="Override the preset's ray sampler: stratified has a fixed cost per ray (64 samples), the "
        "occupancy grid (nerfacc, CUDA) marches up to ~1000 samples per ray until the grid is pruned.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = CUDA when available.")
    seed: int = Field(0, description="Seed of initialisation, ray sampling and the prior.")
    task: Task = Field(
        "removal", description="Edit: removal, completion (part of an object), replacement (by prompt), expansion."
    )
    expansion: ExpansionConfig = Field(
        default_factory=ExpansionConfig, description="Scene expansion: virtual cameras and how far (task expansion)."
    )

    @model_validator(mode="before")
    @classmethod
    def _prior_follows_the_stage(cls, data: Any) -> Any:
        """The prior's internal_preset and seed default to the stage's preset and seed, so `--preset
        full` trains the full internal prior and one seed makes the whole stage reproducible."""
        if not isinstance(data, dict):
            return data
        prior = data.get("prior") or {}
        if isinstance(prior, BaseModel):
            prior = prior.model_dump(exclude_unset=True)
        if not isinstance(prior, dict):
            return data  # not a prior section: pydantic names the field and the type it expects
        follows = {
            "internal_preset": data.get("preset", cls.model_fields["preset"].default),
            "seed": data.get("seed", cls.model_fields["seed"].default),
        }
        return {**data, "prior": {**follows, **prior}}

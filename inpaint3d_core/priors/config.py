"""The priors' configs and choices: which 2D inpainting prior, and how SDS uses it.

Torch-free, so the inpaint stage's config (and the CLI options built from it) can name them
without importing torch or diffusers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

InternalPreset = Literal["tiny", "quick", "full", "thorough"]

DEFAULT_MODEL = "stabilityai/stable-diffusion-2-inpainting"


class SDSConfig(BaseModel):
    """How SDS draws timesteps and shapes its gradient (the same for every prior)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    t_min: float = Field(0.02, gt=0.0, lt=1.0, description="Smallest timestep, fraction of the schedule.")
    t_max_start: float = Field(
        0.98, gt=0.0, le=1.0, description="Largest timestep at the start of the joint phase (fraction)."
    )
    t_max_end: float = Field(
        0.5, gt=0.0, le=1.0, description="Largest timestep at the end of the joint phase (fraction)."
    )
    anneal: Literal["linear", "sqrt", "none"] = Field(
        "sqrt",
        description="How t_max moves from start to end with progress: linear, sqrt (faster early) or none.",
    )
    grad_clip: float | None = Field(
        None, gt=0.0, description="Clamp each element of the SDS gradient to [-c, c]; None = no clamp."
    )

    @model_validator(mode="after")
    def _range_is_ordered(self) -> SDSConfig:
        if min(self.t_max_start, self.t_max_end) <= self.t_min:
            raise ValueError("t_max_start and t_max_end must be larger than t_min")
        return self


class PriorConfig(BaseModel):
    """Which 2D inpainting prior guides the hole, and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["internal", "stable_diffusion"] = Field(
        "internal",
        description="internal: trained on this capture, no weights needed; stable_diffusion: a diffusers "
        "inpainting checkpoint (`model`).",
    )
    model: str = Field(
        DEFAULT_MODEL,
        description="stable_diffusion only: hub id or local folder of a diffusers inpainting pipeline.",
    )
    dtype: Literal["auto", "float16", "bfloat16", "float32"] = Field(
        "auto", description="stable_diffusion only: weights precision (auto = float16 on CUDA, float32 on CPU)."
    )
    # Below 1, classifier-free guidance extrapolates away from the prompt.
    guidance_scale: float = Field(7.5, ge=1.0, description="stable_diffusion only: classifier-free guidance scale.")
    prompt: str = Field("", description="stable_diffusion only: what to paint into the hole (replacement).")
    negative_prompt: str = Field("", description="stable_diffusion only: what to steer away from.")
    resolution: int | None = Field(
        None, ge=16, description="stable_diffusion only: working resolution (default: the model's native one)."
    )
    inference_steps: int = Field(50, ge=1, description="stable_diffusion only: sampling steps for `inpaint`.")
    internal_preset: InternalPreset = Field(
        "quick",
        description="internal only: size/steps preset (tiny: tests, quick: CPU demo, full/thorough: GPU); "
        "the inpaint stage's preset unless given.",
    )
    internal_steps: int | None = Field(None, ge=1, description="internal only: training steps (overrides the preset).")
    seed: int = Field(
        0, description="Seed for training, SDS noise and sampling; the inpaint stage's seed unless given."
    )

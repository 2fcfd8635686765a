"""One typed config and one function that turn user options into an `InpaintingPrior`.

Why here and not in the stage: the inpaint stage, the per-view baseline and the CLI all need the
same choice (internal vs Stable Diffusion, model, prompts, guidance, SDS schedule), and the
config is part of the stage fingerprint, so it must be a plain pydantic model.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.base import InpaintingPrior
from inpaint3d_core.priors.internal import InternalPreset, InternalPrior, InternalPriorConfig, train_internal_prior
from inpaint3d_core.priors.stable_diffusion import DEFAULT_MODEL, StableDiffusionInpaintPrior
from inpaint3d_core.sds import SDSConfig

# Classifier-free guidance below 1 extrapolates away from the prompt; the stage config uses the
# same bound so a bad value is refused when the job is validated, not deep in the inpaint stage.
MIN_GUIDANCE_SCALE = 1.0


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
    guidance_scale: float = Field(
        7.5, ge=MIN_GUIDANCE_SCALE, description="stable_diffusion only: classifier-free guidance scale."
    )
    prompt: str = Field("", description="stable_diffusion only: what to paint into the hole (replacement).")
    negative_prompt: str = Field("", description="stable_diffusion only: what to steer away from.")
    resolution: int | None = Field(
        None, ge=16, description="stable_diffusion only: working resolution (default: the model's native one)."
    )
    inference_steps: int = Field(50, ge=1, description="stable_diffusion only: sampling steps for `inpaint`.")
    internal_preset: InternalPreset = Field(
        "quick", description="internal only: size/steps preset (tiny: tests, quick: CPU demo, full/thorough: GPU)."
    )
    internal_steps: int | None = Field(None, ge=1, description="internal only: training steps (overrides the preset).")
    sds: SDSConfig = Field(default_factory=SDSConfig, description="Timestep schedule and gradient shaping of SDS.")
    seed: int = Field(0, description="Seed for training, SDS noise and sampling.")


def internal_prior_config(config: PriorConfig) -> InternalPriorConfig:
    """The internal prior's own config implied by `config` (what its stored weights must match)."""
    overrides = {"seed": config.seed}
    if config.internal_steps is not None:
        overrides["train_steps"] = config.internal_steps
    return InternalPriorConfig.preset(config.internal_preset, **overrides)


def build_prior(
    config: PriorConfig,
    device: str | torch.device,
    training_data: tuple[list[np.ndarray], list[np.ndarray]] | None = None,
    internal_weights: bytes | None = None,
) -> InpaintingPrior:
    """Load or train the configured prior on `device`.

    training_data: (images uint8 HxWx3, dilated masks uint8 HxW) of the training views, needed to
    train the internal prior. internal_weights: bytes from `InternalPrior.to_bytes()` (e.g. kept
    in the store); reused when they were trained with the same internal config, else retrained.
    """
    if config.kind == "stable_diffusion":
        return StableDiffusionInpaintPrior.from_pretrained(
            config.model,
            device=device,
            dtype=config.dtype,
            prompt=config.prompt,
            negative_prompt=config.negative_prompt,
            guidance_scale=config.guidance_scale,
            sds=config.sds,
            resolution=config.resolution,
            num_inference_steps=config.inference_steps,
            seed=config.seed,
        )
    if config.prompt or config.negative_prompt:
        raise InputError(
            "the internal prior has no text input, so prompt/negative_prompt cannot be used; choose the "
            "stable_diffusion prior with an inpainting model for replacement by prompt"
        )
    wanted = internal_prior_config(config)
    if internal_weights is not None:
        stored = InternalPrior.from_bytes(internal_weights, device=device, sds=config.sds)
        if stored.config == wanted:
            return stored
    if training_data is None:
        raise InputError("the internal prior needs the capture's images and masks to train on (none given)")
    images, masks = training_data
    return train_internal_prior(images, masks, wanted, device=device, sds=config.sds)

"""One function that turns a `PriorConfig` (and the SDS settings) into an `InpaintingPrior`.

Why here and not in the stage: the inpaint stage and the per-view baseline need the same choice
(internal vs Stable Diffusion, model, prompts, guidance); the configs themselves live in
`priors.config`, torch-free, because the CLI builds its options from them.
"""

from __future__ import annotations

import numpy as np
import torch

from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.base import InpaintingPrior
from inpaint3d_core.priors.config import PriorConfig, SDSConfig
from inpaint3d_core.priors.internal import InternalPrior, InternalPriorConfig, train_internal_prior
from inpaint3d_core.priors.stable_diffusion import StableDiffusionInpaintPrior


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
    sds: SDSConfig | None = None,
) -> InpaintingPrior:
    """Load or train the configured prior on `device`, drawing SDS steps as `sds` says (None: the defaults).

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
            sds=sds,
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
        stored = InternalPrior.from_bytes(internal_weights, device=device, sds=sds)
        if stored.config == wanted:
            return stored
    if training_data is None:
        raise InputError("the internal prior needs the capture's images and masks to train on (none given)")
    images, masks = training_data
    return train_internal_prior(images, masks, wanted, device=device, sds=sds)

"""build_prior: the config picks, loads, trains or reuses the right prior."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sd_models import build_tiny_sd_inpaint_pipeline

from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.config import PriorConfig, SDSConfig
from inpaint3d_core.priors.factory import build_prior, internal_prior_config
from inpaint3d_core.priors.internal import InternalPrior
from inpaint3d_core.priors.stable_diffusion import StableDiffusionInpaintPrior


def _views() -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(2)]
    masks = [np.zeros((32, 32), np.uint8) for _ in range(2)]
    masks[0][4:12, 4:12] = 1
    return images, masks


def test_stable_diffusion_config_loads_the_folder_with_its_options(tmp_path):
    folder = build_tiny_sd_inpaint_pipeline(tmp_path / "sd")
    cfg = PriorConfig(
        kind="stable_diffusion",
        model=str(folder),
        prompt="a plant",
        guidance_scale=3.0,
        inference_steps=2,
    )
    prior = build_prior(cfg, "cpu", sds=SDSConfig(grad_clip=0.5))
    assert isinstance(prior, StableDiffusionInpaintPrior)
    assert prior.guidance_scale == 3.0 and prior.sds.grad_clip == 0.5 and prior.num_inference_steps == 2


def test_internal_prior_trains_then_is_reused_from_bytes():
    cfg = PriorConfig(internal_preset="tiny", internal_steps=2)
    trained = build_prior(cfg, "cpu", training_data=_views())
    assert isinstance(trained, InternalPrior)
    assert trained.training["steps"] == 2
    reused = build_prior(cfg, "cpu", internal_weights=trained.to_bytes())
    assert reused.config == trained.config
    assert all(torch.equal(a, b) for a, b in zip(reused.model.parameters(), trained.model.parameters(), strict=True))


def test_stored_weights_of_another_config_are_retrained():
    old = build_prior(PriorConfig(internal_preset="tiny", internal_steps=1), "cpu", training_data=_views())
    cfg = PriorConfig(internal_preset="tiny", internal_steps=2)
    fresh = build_prior(cfg, "cpu", training_data=_views(), internal_weights=old.to_bytes())
    assert fresh.config == internal_prior_config(cfg)
    assert fresh.training["steps"] == 2


def test_internal_prior_refuses_a_prompt():
    with pytest.raises(InputError, match="no text input"):
        build_prior(PriorConfig(prompt="a chair"), "cpu", training_data=_views())


def test_internal_prior_without_data_is_an_input_error():
    with pytest.raises(InputError, match="images and masks"):
        build_prior(PriorConfig(internal_preset="tiny"), "cpu")


def test_unknown_keys_are_rejected():
    with pytest.raises(ValueError):
        PriorConfig(kind="internal", guidance=7.5)

"""The SD inpainting prior, loaded from a saved folder exactly as a user's checkpoint is."""

from __future__ import annotations

import pytest
import torch
from diffusers import StableDiffusionInpaintPipeline
from sd_models import (
    TINY_RESOLUTION,
    build_random_sd2_inpaint,
    build_tiny_sd_inpaint_pipeline,
    prior_without_text_encoder,
)

from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.base import InpaintingPrior
from inpaint3d_core.priors.config import SDSConfig
from inpaint3d_core.priors.stable_diffusion import StableDiffusionInpaintPrior, resolve_model_source


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return build_tiny_sd_inpaint_pipeline(tmp_path_factory.mktemp("models") / "tiny-sd-inpaint")


@pytest.fixture(scope="module")
def prior(tiny_folder):
    return StableDiffusionInpaintPrior.from_pretrained(
        str(tiny_folder), device="cpu", prompt="a wooden bench", negative_prompt="blurry", num_inference_steps=3
    )


def _hole(res: int) -> torch.Tensor:
    mask = torch.zeros(1, 1, res, res)
    mask[..., 20:44, 16:40] = 1.0
    return mask


def test_saved_folder_loads_as_prior(prior):
    assert isinstance(prior, InpaintingPrior)
    assert prior.resolution == TINY_RESOLUTION
    assert prior.prompt_embeds.shape == (1, 77, 32)
    # the negative prompt differs from the prompt, so guidance has two distinct branches
    assert not torch.equal(prior.prompt_embeds, prior.negative_prompt_embeds)


def test_sds_gradient_reaches_hole_pixels_only(prior):
    res = prior.resolution
    rendered = torch.rand(2, 3, res, res, requires_grad=True)
    mask = _hole(res).expand(2, 1, res, res)
    out = prior.sds_loss(rendered, torch.rand(2, 3, res, res), mask, progress=0.2)
    out.loss.backward()
    outside = mask.expand_as(rendered) == 0
    assert rendered.grad[outside].abs().max() == 0
    assert rendered.grad[~outside].abs().sum() > 0
    assert float(out.grad_norm) > 0
    assert 20 <= out.timestep <= 980


def test_guidance_scale_changes_the_gradient(tiny_folder):
    """Same seed and inputs: guidance 1 (cond only) and 7.5 must give different SDS gradients."""
    grads = []
    for scale in (1.0, 7.5):
        p = StableDiffusionInpaintPrior.from_pretrained(
            str(tiny_folder), device="cpu", prompt="a bench", guidance_scale=scale
        )
        rendered = torch.full((1, 3, 64, 64), 0.5, requires_grad=True)
        p.sds_loss(rendered, torch.full((1, 3, 64, 64), 0.3), _hole(64), progress=0.0).loss.backward()
        grads.append(rendered.grad)
    assert not torch.allclose(grads[0], grads[1])


def test_inpaint_keeps_known_pixels(prior):
    image = torch.rand(1, 3, 48, 48)
    mask = torch.zeros(1, 1, 48, 48)
    mask[..., 10:30, 12:36] = 1.0
    out = prior.inpaint(image, mask, seed=3)
    assert out.shape == image.shape
    assert torch.equal(out[mask.expand_as(out) == 0], image[mask.expand_as(image) == 0])
    assert not torch.allclose(out, image)
    assert torch.equal(prior.inpaint(image, mask, seed=3), out)


def test_missing_folder_is_an_input_error_naming_it(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(InputError, match="no-such-model") as err:
        StableDiffusionInpaintPrior.from_pretrained(str(missing), device="cpu")
    assert "stable-diffusion-2-inpainting" in str(err.value)


def test_hub_ids_and_folders_are_told_apart(tiny_folder):
    assert resolve_model_source("stabilityai/stable-diffusion-2-inpainting") == (
        "stabilityai/stable-diffusion-2-inpainting",
        False,
    )
    assert resolve_model_source(str(tiny_folder)) == (str(tiny_folder), True)


def test_float16_on_cpu_is_refused(tiny_folder):
    with pytest.raises(InputError, match="float16"):
        StableDiffusionInpaintPrior.from_pretrained(str(tiny_folder), device="cpu", dtype="float16")


def test_sds_config_reaches_the_prior(tiny_folder):
    cfg = SDSConfig(t_min=0.3, t_max_start=0.35, t_max_end=0.32)
    p = StableDiffusionInpaintPrior.from_pretrained(str(tiny_folder), device="cpu", sds=cfg)
    out = p.sds_loss(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64), _hole(64), progress=1.0)
    assert 300 <= out.timestep <= 320


def test_sd2_architecture_builds_with_the_published_size():
    """Built on the meta device (no memory, no time): parameter counts of SD-2-inpainting."""
    pipeline = build_random_sd2_inpaint("meta", torch.float16)
    assert sum(p.numel() for p in pipeline.unet.parameters()) == 865_925_124
    assert sum(p.numel() for p in pipeline.vae.parameters()) == 83_653_863
    assert pipeline.unet.dtype == torch.float16 and torch.get_default_dtype() == torch.float32
    prior = prior_without_text_encoder(pipeline)
    assert prior.resolution == 512
    assert prior.prompt_embeds.shape == prior.negative_prompt_embeds.shape == (1, 77, 1024)


def test_pipeline_without_text_encoder_runs_sds(tiny_folder):
    """The wrapper the GPU floor benchmark uses, on the tiny pipeline loaded without its text model."""
    pipeline = StableDiffusionInpaintPipeline.from_pretrained(
        str(tiny_folder), text_encoder=None, tokenizer=None, local_files_only=True
    )
    prior = prior_without_text_encoder(pipeline)
    rendered = torch.rand(1, 3, 64, 64, requires_grad=True)
    prior.sds_loss(rendered, torch.rand(1, 3, 64, 64), _hole(64), progress=0.5).loss.backward()
    assert rendered.grad.abs().sum() > 0

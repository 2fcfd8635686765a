"""The timed closures run the steps they claim (checked on the tiny pipeline on CPU)."""

from __future__ import annotations

import torch
from diffusers import StableDiffusionInpaintPipeline
from sd_models import build_tiny_sd_inpaint_pipeline, prior_without_text_encoder
from sds_timing import floor_sds_step, median_ms, prior_sds_step


def test_floor_and_prior_steps_run_and_are_timed(tmp_path):
    folder = build_tiny_sd_inpaint_pipeline(tmp_path / "sd")
    pipeline = StableDiffusionInpaintPipeline.from_pretrained(
        str(folder), text_encoder=None, tokenizer=None, local_files_only=True
    )
    prior = prior_without_text_encoder(pipeline)
    calls = []
    unet_forward = pipeline.unet.forward

    def counting_forward(sample, *args, **kwargs):
        calls.append(sample.shape[0])
        return unet_forward(sample, *args, **kwargs)

    pipeline.unet.forward = counting_forward
    floor_ms = median_ms(floor_sds_step(pipeline, batch=2, resolution=64), torch.device("cpu"), repeats=2, warmup=1)
    prior_ms = median_ms(prior_sds_step(prior, batch=2), torch.device("cpu"), repeats=2, warmup=1)
    assert floor_ms > 0 and prior_ms > 0
    # classifier-free guidance: each step is one UNet call on the doubled batch, in both paths
    assert calls == [4] * 6

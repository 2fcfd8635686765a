"""Stable Diffusion inpainting pipelines with random weights, for tests and benchmarks (no download).

- `build_tiny_sd_inpaint_pipeline`: a ~7 MB pipeline (9-channel UNet, 2-block VAE, 2-layer CLIP
  text encoder, byte-level tokenizer, DDIM) saved like a real checkpoint, so the code that loads
  a user's checkpoint (`StableDiffusionInpaintPrior.from_pretrained`) runs end to end; it
  inpaints 64x64 in well under a second on the CPU.
- `build_random_sd2_inpaint`: the full-size SD-2-inpainting architecture, to time SDS against
  its floor on any GPU (speed does not depend on the weights' values), and
  `prior_without_text_encoder` to wrap it as the real prior class.

Imported by tests (tests/conftest.py puts benchmarks/ on sys.path) and by benchmark scripts.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from inpaint3d_core.priors.stable_diffusion import StableDiffusionInpaintPrior

TINY_TEXT_DIM = 32
TINY_RESOLUTION = 64  # UNet sample_size 32 x VAE downscale 2


def _write_byte_level_vocab(folder: Path) -> None:
    """A CLIP BPE vocabulary of single characters and no merges: every prompt tokenises."""
    chars = [chr(c) for c in range(33, 127)]
    tokens = ["<|startoftext|>", "<|endoftext|>"] + chars + [c + "</w>" for c in chars]
    (folder / "vocab.json").write_text(json.dumps({tok: i for i, tok in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")


def _tiny_tokenizer() -> CLIPTokenizer:
    with tempfile.TemporaryDirectory() as vocab_dir:
        _write_byte_level_vocab(Path(vocab_dir))
        # transformers 5 ignores vocab_file= in the constructor; from_pretrained reads the files.
        # Without model_max_length the pipeline pads prompts to ~1e30 tokens.
        return CLIPTokenizer.from_pretrained(vocab_dir, model_max_length=77)


def build_tiny_sd_inpaint_pipeline(folder: str | Path, seed: int = 0) -> Path:
    """Build a random tiny SD inpainting pipeline and `save_pretrained` it into `folder`.

    Returns the folder, to be passed where a user passes their checkpoint (e.g.
    `PriorConfig(kind="stable_diffusion", model=str(folder))`). Native resolution 64 px.
    """
    folder = Path(folder)
    torch.manual_seed(seed)
    tokenizer = _tiny_tokenizer()
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=TINY_TEXT_DIM,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            projection_dim=TINY_TEXT_DIM,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=TINY_RESOLUTION // 2,
        in_channels=9,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=TINY_TEXT_DIM,
        attention_head_dim=(4, 8),
        use_linear_projection=True,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 64),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        sample_size=TINY_RESOLUTION,
    )
    scheduler = sd_ddim_scheduler()
    pipeline = StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder)
    return folder


def sd_ddim_scheduler() -> DDIMScheduler:
    """The DDIM noise schedule of Stable Diffusion 1.x/2.x checkpoints (what randomly built
    pipelines must share with real ones, so SDS timesteps and weights mean the same)."""
    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


def build_random_sd2_inpaint(
    device: str | torch.device = "cuda", dtype: torch.dtype = torch.float16, seed: int = 0
) -> StableDiffusionInpaintPipeline:
    """The full-size SD-2-inpainting architecture (UNet 865M params, 9 in-channels; VAE) with random
    weights and no text encoder, built from configs on `device` (no download).

    Why: the SDS step time of the real prior code path can be measured against this floor on any
    GPU without the checkpoint; speed does not depend on the weights' values.
    """
    torch.manual_seed(seed)
    # Parameters are created directly on `device` in `dtype` (the default dtype is set for the
    # construction only): no 3.5 GB float32 copy on the host, and no `.to(dtype)` cast, which
    # diffusers warns about for models meant to be loaded with `torch_dtype`.
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            unet = UNet2DConditionModel(
                sample_size=64,
                in_channels=9,
                out_channels=4,
                block_out_channels=(320, 640, 1280, 1280),
                layers_per_block=2,
                down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
                attention_head_dim=(5, 10, 20, 20),
                cross_attention_dim=1024,
                use_linear_projection=True,
                flip_sin_to_cos=True,
                freq_shift=0,
                act_fn="silu",
                norm_num_groups=32,
            )
            vae = AutoencoderKL(
                in_channels=3,
                out_channels=3,
                block_out_channels=(128, 256, 512, 512),
                down_block_types=("DownEncoderBlock2D",) * 4,
                up_block_types=("UpDecoderBlock2D",) * 4,
                layers_per_block=2,
                latent_channels=4,
                sample_size=512,
                scaling_factor=0.18215,
            )
    finally:
        torch.set_default_dtype(default_dtype)
    scheduler = sd_ddim_scheduler()
    pipeline = StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=None,
        tokenizer=None,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    return pipeline


def prior_without_text_encoder(
    pipeline: StableDiffusionInpaintPipeline, seed: int = 0, **kwargs
) -> StableDiffusionInpaintPrior:
    """Wrap a pipeline that has no text encoder (e.g. `build_random_sd2_inpaint`) as the real prior
    class, with random (1, 77, cross_attention_dim) embeddings for the prompt and the negative
    prompt, so guidance runs its two distinct UNet branches as it does with real prompts."""
    generator = torch.Generator().manual_seed(seed)
    dim = pipeline.unet.config.cross_attention_dim
    cond, uncond = torch.randn(2, 1, 77, dim, generator=generator)
    return StableDiffusionInpaintPrior.from_pipeline(
        pipeline, prompt_embeds=cond, negative_prompt_embeds=uncond, seed=seed, **kwargs
    )

"""A tiny random Stable-Diffusion inpainting pipeline, written to a folder like a real checkpoint.

Why: no pretrained weights can be downloaded here, yet the code that loads a user's checkpoint
(`StableDiffusionInpaintPrior.from_pretrained`) must be exercised end to end. This builds every
component from configs (9-channel UNet, 2-block VAE, 2-layer CLIP text encoder, byte-level
tokenizer, DDIM scheduler), saves it with `save_pretrained`, and tests then load that folder
through exactly the user's path. About 7 MB; inpaints 64x64 in well under a second on CPU.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch
from diffusers import AutoencoderKL, StableDiffusionInpaintPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from inpaint3d_core.priors.stable_diffusion import sd_ddim_scheduler

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

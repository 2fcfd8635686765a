"""The internal prior: a small pixel-space inpainting diffusion model trained on the capture itself.

Why: it lets the whole method run offline with no downloaded weights. The model (a diffusers
`UNet2DModel`) takes 7 channels, the noisy RGB crop, the hole mask and the RGB crop with the hole
blanked, and predicts the noise (epsilon, cosine schedule). It is trained on random crops of the
capture's unmasked pixels with random holes and the capture's own hole shapes
(`training_masks`), so it paints with the scene's own materials. It learns texture, not
structure: in a feasibility probe (a 25 M-parameter model trained for ~2000 steps on one real
capture) every fill was made of the scene's materials, but no surface's edges continued into the
hole and big holes drew the capture's most frequent texture; structure has to come from the joint
method's depth supervision and multi-view SDS.

Design choices:
- The training loss covers the hole only: outside it the noise is determined by the given
  image, and neither SDS (gradient masked to the hole) nor sampling (known pixels re-imposed at
  every step, as in training) uses the prediction there.
- SDS works on the pixels in [-1, 1] as its "latent"; everything else is `priors.sds`.
- Weights and config travel together as safetensors (metadata holds the config), as bytes for
  the scene store or as a file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

import numpy as np
import safetensors.torch
import torch
from diffusers import DDIMScheduler, UNet2DModel
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.base import SDSOutput
from inpaint3d_core.priors.config import InternalPreset, SDSConfig
from inpaint3d_core.priors.crop_sampler import CropSampler
from inpaint3d_core.priors.graphed import GraphedForward
from inpaint3d_core.priors.sds import gate_gradient_to_hole, hole_at_resolution, score_distillation
from inpaint3d_core.priors.train_step import PriorTrainStep
from inpaint3d_core.priors.training_masks import HoleBank, own_mask_shapes

_FORMAT = "inpaint3d-internal-prior/1"
HOLE_BANK_SIZE = 4096  # random training hole shapes made once (plus the capture's own, flipped and rotated)
# Architecture, crops and precision shared by the GPU presets.
_FULL_NETWORK = dict(
    resolution=64,
    block_channels=(64, 128, 256, 256),
    layers_per_block=2,
    attention=True,
    norm_groups=32,
    crop_context=1.6,
    own_mask_fraction=0.6,
    inference_steps=50,
    precision="bfloat16",
)


class InternalPriorConfig(BaseModel):
    """Architecture, training and sampling of the internal prior (presets: `InternalPriorConfig.preset`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resolution: int = Field(32, ge=8, description="Side of the square crops the model trains and works on (px).")
    block_channels: tuple[int, ...] = Field(
        (32, 64, 64), min_length=2, description="UNet channels per level (each level but the last halves the size)."
    )
    layers_per_block: int = Field(1, ge=1, description="Residual blocks per UNet level.")
    attention: bool = Field(False, description="Self-attention at the coarsest UNet level.")
    norm_groups: int = Field(8, ge=1, description="GroupNorm groups (must divide every block's channels).")
    crop_scales: tuple[float, ...] = Field(
        (1.0, 2.0), min_length=1, description="Training crops cover resolution*scale px, resized to resolution."
    )
    crop_context: float = Field(
        2.0, gt=1.0, description="Crop side / hole bounding-box side, for SDS crops and own-mask training holes."
    )
    own_mask_fraction: float = Field(
        0.5, ge=0.0, le=1.0, description="Fraction of training holes taken from the capture's own mask shapes."
    )
    train_steps: int = Field(200, ge=1, description="Optimiser steps.")
    batch_size: int = Field(16, ge=1, description="Crops per step.")
    learning_rate: float = Field(1e-3, gt=0.0, description="AdamW learning rate.")
    num_train_timesteps: int = Field(1000, ge=10, description="Length of the cosine noise schedule.")
    inference_steps: int = Field(20, ge=1, description="DDIM steps for `inpaint`.")
    precision: Literal["float32", "bfloat16"] = Field("float32", description="bf16: bf16 weights, fp32 masters.")
    seed: int = Field(0, description="Seed for weights, crops, holes and noise.")

    @classmethod
    def preset(cls, name: InternalPreset, **overrides) -> InternalPriorConfig:
        """tiny: tests (seconds); quick: the CPU demo (~30-60 s on 2 cores); full / thorough: GPU, bf16."""
        presets = {
            "tiny": dict(resolution=16, block_channels=(16, 32), train_steps=3, batch_size=4, inference_steps=3),
            "quick": dict(),
            # full: the same network trained on 4x larger batches (4/5 as many crops as thorough):
            # a 256-crop step costs ~2.2x a 64-crop one on an H200 (103 vs 47 ms, bf16 + CUDA
            # graph; benchmarks/field_speed.py), so 800 steps fit the 90 s the prior may take.
            "full": dict(
                **_FULL_NETWORK,
                train_steps=800,
                batch_size=256,
                learning_rate=4e-4,
            ),
            # thorough: the full preset as it was before (4000 steps of 64 crops).
            "thorough": dict(**_FULL_NETWORK, train_steps=4000, batch_size=64, learning_rate=2e-4),
        }
        return cls(**{**presets[name], **overrides})


def build_unet(config: InternalPriorConfig) -> UNet2DModel:
    levels = len(config.block_channels)
    down = ["DownBlock2D"] * levels
    up = ["UpBlock2D"] * levels
    if config.attention:
        down[-1], up[0] = "AttnDownBlock2D", "AttnUpBlock2D"
    return UNet2DModel(
        sample_size=config.resolution,
        in_channels=7,
        out_channels=3,
        block_out_channels=config.block_channels,
        layers_per_block=config.layers_per_block,
        down_block_types=tuple(down),
        up_block_types=tuple(up),
        norm_num_groups=config.norm_groups,
    )


def _scheduler(config: InternalPriorConfig) -> DDIMScheduler:
    return DDIMScheduler(
        num_train_timesteps=config.num_train_timesteps,
        beta_schedule="squaredcos_cap_v2",
        prediction_type="epsilon",
        clip_sample=True,
        timestep_spacing="trailing",
    )


class InternalPrior:
    """`InpaintingPrior` backed by the scene-trained pixel UNet (any object with `(x, t) -> .sample`)."""

    def __init__(
        self,
        model: torch.nn.Module,
        config: InternalPriorConfig,
        sds: SDSConfig | None = None,
        training: dict | None = None,
        seed: int = 0,
    ):
        self.model = model
        self.config = config
        self.sds = sds or SDSConfig()
        self.training = training or {}
        self.resolution = config.resolution
        self.crop_context = config.crop_context
        self.device = next(iter(model.parameters()), torch.empty(0)).device
        self.alphas_cumprod = _scheduler(config).alphas_cumprod.to(self.device, torch.float32)
        self._size_multiple = 2 ** (len(config.block_channels) - 1)
        self._generator = torch.Generator().manual_seed(seed)
        self._denoise = GraphedForward(model, config.precision == "bfloat16")

    def _eps(self, noisy: torch.Tensor, t: torch.Tensor, hole: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        return self._denoise(torch.cat([noisy, hole, masked], dim=1), t).float()

    def sds_loss(
        self, rendered: torch.Tensor, cond_image: torch.Tensor, mask: torch.Tensor, progress: float
    ) -> SDSOutput:
        b, _, h, w = rendered.shape
        if cond_image.shape != rendered.shape or mask.shape != (b, 1, h, w):
            raise ValueError(
                f"sds_loss: rendered {tuple(rendered.shape)}, cond_image {tuple(cond_image.shape)} and mask "
                f"{tuple(mask.shape)} must be (B,3,H,W), (B,3,H,W), (B,1,H,W)"
            )
        if h % self._size_multiple or w % self._size_multiple:
            raise ValueError(f"sds_loss: H, W = {h}, {w} must be multiples of {self._size_multiple}")
        hole = (mask > 0.5).to(torch.float32)
        latent = gate_gradient_to_hole(rendered, hole) * 2.0 - 1.0
        masked = (cond_image.detach() * 2.0 - 1.0) * (1.0 - hole)
        step = score_distillation(
            latent,
            hole,
            lambda noisy, t: self._eps(noisy, t, hole, masked),
            self.alphas_cumprod,
            self.sds,
            progress,
            self._generator,
        )
        return step.to_output()

    @torch.no_grad()
    def inpaint(self, image: torch.Tensor, mask: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """DDIM sampling at `resolution`, the known pixels re-noised and re-imposed at every step
        (the model only ever saw true known pixels); the result is resized back and composited."""
        size = tuple(image.shape[-2:])
        res = (self.resolution, self.resolution)
        hole_full = (mask > 0.5).to(torch.float32)
        hole = hole_at_resolution(hole_full, res)
        known = torch.nn.functional.interpolate(image.float(), size=res, mode="bilinear", antialias=True) * 2 - 1
        masked = known * (1.0 - hole)
        generator = torch.Generator().manual_seed(seed)
        scheduler = _scheduler(self.config)
        scheduler.set_timesteps(self.config.inference_steps)
        x = torch.randn(known.shape, generator=generator).to(self.device)
        for t in scheduler.timesteps:
            known_t = scheduler.add_noise(known, torch.randn(known.shape, generator=generator).to(self.device), t)
            x = x * hole + known_t * (1.0 - hole)
            eps = self._eps(x, t.expand(x.shape[0]).to(self.device), hole, masked)
            x = scheduler.step(eps, t, x).prev_sample
        filled = torch.nn.functional.interpolate((x.clamp(-1, 1) + 1) / 2, size=size, mode="bilinear", antialias=True)
        # where, not a blend: known pixels stay bit-exact even if a sample had non-finite values
        return torch.where(hole_full > 0.5, filled.to(image), image)

    def to_bytes(self) -> bytes:
        """Safetensors bytes with the config and training summary in the metadata (for the store)."""
        state = {k: v.detach().float().cpu().contiguous() for k, v in self.model.state_dict().items()}
        metadata = {
            "format": _FORMAT,
            "config": self.config.model_dump_json(),
            "training": json.dumps(self.training),
        }
        return safetensors.torch.save(state, metadata=metadata)

    @classmethod
    def from_bytes(
        cls, payload: bytes, device: str | torch.device = "cpu", sds: SDSConfig | None = None
    ) -> InternalPrior:
        # safetensors layout: 8-byte little-endian header length, JSON header with __metadata__.
        header_len = int.from_bytes(payload[:8], "little")
        metadata = json.loads(payload[8 : 8 + header_len]).get("__metadata__", {})
        if metadata.get("format") != _FORMAT:
            raise InputError(f"not internal-prior weights (format {metadata.get('format')!r}, expected {_FORMAT!r})")
        config = InternalPriorConfig.model_validate_json(metadata["config"])
        model = build_unet(config)
        model.load_state_dict(safetensors.torch.load(payload))
        return cls(model.to(device).eval().requires_grad_(False), config, sds, json.loads(metadata["training"]))

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu", sds: SDSConfig | None = None) -> InternalPrior:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"internal prior weights {path} not found; train the prior (inpaint stage) first")
        return cls.from_bytes(path.read_bytes(), device, sds)


def train_internal_prior(
    images: list[np.ndarray],
    masks: list[np.ndarray],
    config: InternalPriorConfig,
    device: str | torch.device | None = None,
    sds: SDSConfig | None = None,
) -> InternalPrior:
    """Train the prior on crops of `images` (uint8 HxWx3) that avoid `masks` (uint8 HxW, 1 = region
    to generate; pass the dilated masks), with random and own-shape holes."""
    device = torch.device(device or "cpu")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    sampler = CropSampler(images, masks, config.resolution, config.crop_scales, device)
    own_shapes = own_mask_shapes(masks, config.resolution, config.crop_context)
    bank_size = min(HOLE_BANK_SIZE, config.train_steps * config.batch_size)
    holes = HoleBank(rng, bank_size, config.resolution, own_shapes, config.own_mask_fraction, device)
    model = build_unet(config).to(device).train()
    trainer = PriorTrainStep(model, config.learning_rate, config.precision == "bfloat16", device)
    alphas_cumprod = _scheduler(config).alphas_cumprod.to(device, torch.float32)
    losses = []  # 0-d device tensors: read in batches so the host never waits for each step
    start = time.perf_counter()
    bar = tqdm(range(config.train_steps), desc="internal prior", leave=False)
    for step in bar:
        clean = sampler.sample(rng, config.batch_size)
        hole = holes.sample(rng, config.batch_size)
        noise = torch.randn_like(clean)
        t = torch.randint(0, config.num_train_timesteps, (config.batch_size,), device=device)
        alpha_bar = alphas_cumprod[t].view(-1, 1, 1, 1)
        noisy = alpha_bar.sqrt() * clean + (1 - alpha_bar).sqrt() * noise
        losses.append(trainer.step(torch.cat([noisy, hole, clean * (1 - hole)], dim=1), t, noise, hole))
        if step % 50 == 49:
            bar.set_postfix(loss=f"{torch.stack(losses[-20:]).mean().item():.4f}")
    model.float().load_state_dict(trainer.master_state_dict())
    losses = torch.stack(losses).float().cpu().tolist()
    tail = losses[-max(1, len(losses) // 10) :]
    training = {
        "steps": config.train_steps,
        "final_loss": float(np.mean(tail)),
        "first_loss": losses[0],
        "seconds": time.perf_counter() - start,
        "device": str(device),
        "views": len(images),
        "own_mask_shapes": len(own_shapes),
    }
    return InternalPrior(model.eval().requires_grad_(False), config, sds, training, seed=config.seed)

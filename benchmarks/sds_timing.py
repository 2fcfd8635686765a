"""Timing of one SDS step: the prior's code path against a floor of the bare network calls.

Why a floor measured in the same run: GPU speed varies across machines and drivers, so an
absolute number says little; the ratio of our SDS step to the least work any SDS step with the
same model must do (VAE encode with gradient, masked-image encode, one guided UNet call on a
doubled batch, the surrogate's backward through the encoder) shows the overhead we add.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from diffusers import StableDiffusionInpaintPipeline

from inpaint3d_core.priors.base import InpaintingPrior


def median_ms(step: Callable[[], None], device: torch.device, repeats: int = 10, warmup: int = 3) -> float:
    """Median wall time of `step` in ms, synchronising CUDA around each call."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def _inputs(batch: int, resolution: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    rendered = torch.rand(batch, 3, resolution, resolution, generator=generator).to(device).requires_grad_(True)
    cond = torch.rand(batch, 3, resolution, resolution, generator=generator).to(device)
    mask = torch.zeros(batch, 1, resolution, resolution, device=device)
    q = resolution // 4
    mask[..., q : 3 * q, q : 3 * q] = 1.0
    return rendered, cond, mask


def floor_sds_step(
    pipeline: StableDiffusionInpaintPipeline, batch: int, resolution: int, guidance_scale: float = 7.5
) -> Callable[[], None]:
    """The bare SDS step on `pipeline`'s modules at a fixed mid timestep, as a closure to time."""
    unet, vae = pipeline.unet, pipeline.vae
    device, dtype = unet.device, unet.dtype
    rendered, cond, mask = _inputs(batch, resolution, device)
    embeds = torch.randn(2 * batch, 77, unet.config.cross_attention_dim, device=device, dtype=dtype)
    alpha_bar = pipeline.scheduler.alphas_cumprod[500].to(device)
    t = torch.full((2 * batch,), 500, device=device)
    scale = vae.config.scaling_factor

    def step() -> None:
        rendered.grad = None
        latent = vae.encode((rendered * 2 - 1).to(dtype)).latent_dist.mean * scale
        with torch.no_grad():
            masked = vae.encode(((cond * 2 - 1) * (1 - mask)).to(dtype)).latent_dist.mean * scale
            mask_latent = F.interpolate(mask, size=latent.shape[-2:]).to(dtype)
            noise = torch.randn_like(latent)
            noisy = alpha_bar.sqrt() * latent + (1 - alpha_bar).sqrt() * noise
            x = torch.cat([noisy, mask_latent, masked], dim=1).repeat(2, 1, 1, 1)
            uncond, cond_eps = unet(x, t, encoder_hidden_states=embeds).sample.float().chunk(2)
            grad = (1 - alpha_bar) * (uncond + guidance_scale * (cond_eps - uncond) - noise)
        target = (latent.float() - grad).detach()
        (0.5 * ((latent.float() - target) ** 2).sum()).backward()

    return step


def prior_sds_step(prior: InpaintingPrior, batch: int) -> Callable[[], None]:
    """One `prior.sds_loss` + backward at the prior's resolution, as a closure to time."""
    device = torch.device(getattr(prior, "device", "cpu"))
    rendered, cond, mask = _inputs(batch, prior.resolution, device)

    def step() -> None:
        rendered.grad = None
        prior.sds_loss(rendered, cond, mask, progress=0.5).loss.backward()

    return step

"""Score distillation sampling (SDS), shared by every inpainting prior.

A prior only knows how to turn its working representation (SD's VAE latent, or the pixels
themselves for the internal model) into a noise prediction `eps_hat`. Everything else about SDS
lives here, so both priors draw timesteps, weight and mask the gradient the same way:

- timestep: t ~ U[t_min, t_max(progress)] as a fraction of the training schedule, with
  t_max annealed from `t_max_start` to `t_max_end` as the joint optimisation proceeds (large t
  early shapes coarse content, small t late refines detail);
- weight w(t) = 1 - alpha_bar_t;
- gradient g = w(t) (eps_hat - eps), NaNs zeroed, optionally clamped, multiplied by the hole
  mask (at the latent's resolution);
- injection through a surrogate loss on the CLEAN latent z0:
  `loss = 0.5 * sum((z0 - sg(z0 - g))**2)`, so d loss / d z0 = g exactly.

Why the clean latent and not the noised one: SDS is the gradient of the diffusion loss w.r.t. the
rendered content with the denoiser's Jacobian dropped. The noised latent z_t = sqrt(ab) z0 +
sqrt(1 - ab) eps depends on z0 through a factor sqrt(ab) (which goes to ~0.1 at t = 0.98); a
surrogate on z_t would silently rescale the update by that factor and change the weighting that
w(t) was chosen to give. Noise is therefore added under no_grad and the surrogate acts on z0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from inpaint3d_core.priors.base import SDSOutput
from inpaint3d_core.priors.config import SDSConfig

# eps_hat = denoise(noisy_latent, timestep): the prior's (guided) noise prediction.
Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class DistillationStep:
    """One SDS evaluation, with what a test or a log needs to check it.

    loss: surrogate whose gradient w.r.t. `latent` is `grad`; grad: the masked SDS gradient
    (detached); noise / eps_hat: the eps that was added and the prior's prediction of it.
    """

    loss: torch.Tensor
    grad: torch.Tensor
    timestep: int
    weight: torch.Tensor  # 0-d, on the latent's device: a float() here would stall the GPU queue
    noise: torch.Tensor
    eps_hat: torch.Tensor

    @property
    def grad_norm(self) -> torch.Tensor:
        return self.grad.norm()

    def to_output(self) -> SDSOutput:
        return SDSOutput(loss=self.loss, grad_norm=self.grad_norm, timestep=self.timestep)


def t_max_at(config: SDSConfig, progress: float) -> float:
    """Upper end of the timestep range at `progress` in [0, 1] of the joint phase."""
    p = min(max(float(progress), 0.0), 1.0)
    if config.anneal == "none":
        return config.t_max_start
    ramp = p if config.anneal == "linear" else math.sqrt(p)
    return config.t_max_start + (config.t_max_end - config.t_max_start) * ramp


def sample_timestep(
    config: SDSConfig, num_train_timesteps: int, progress: float, generator: torch.Generator | None = None
) -> int:
    """Integer timestep drawn uniformly from [t_min, t_max(progress)] of the training schedule."""
    low = round(config.t_min * num_train_timesteps)
    high = max(low, min(round(t_max_at(config, progress) * num_train_timesteps), num_train_timesteps - 1))
    return int(torch.randint(low, high + 1, (1,), generator=generator).item())


def hole_at_resolution(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The hole mask (B,1,H,W) brought to `size`; a cell belongs to the hole if any pixel does.

    Max-pooling (not nearest sampling) keeps every latent cell that touches the hole, so the
    gradient can reach every hole pixel through the VAE; at the same size it is the mask itself.
    """
    mask = (mask > 0.5).to(torch.float32)
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.adaptive_max_pool2d(mask, size)


def gate_gradient_to_hole(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Same values as `image`, but gradients flow only through the hole pixels.

    A latent prior's encoder mixes pixels, so masking in latent space alone would still leak
    gradient to known pixels around the hole; this gate confines it in pixel space as well.
    """
    hole = (mask > 0.5).to(image.dtype)
    return image * hole + image.detach() * (1.0 - hole)


def surrogate_loss(latent: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Scalar whose gradient w.r.t. `latent` equals `grad` (computed in float32)."""
    latent = latent.float()
    target = (latent - grad.float()).detach()
    return 0.5 * F.mse_loss(latent, target, reduction="sum")


def score_distillation(
    latent: torch.Tensor,
    hole: torch.Tensor,
    denoise: Denoiser,
    alphas_cumprod: torch.Tensor,
    config: SDSConfig,
    progress: float,
    generator: torch.Generator | None = None,
) -> DistillationStep:
    """SDS on the clean `latent` (B,C,h,w, with grad); `hole` (B,1,h,w) in {0,1} at that size.

    `denoise(noisy, t)` returns eps_hat for the noisy latent (classifier-free guidance, if any,
    happens inside it). One timestep per call, shared by the batch.
    """
    num_steps = alphas_cumprod.shape[0]
    t = sample_timestep(config, num_steps, progress, generator)
    alpha_bar = alphas_cumprod[t].to(device=latent.device, dtype=torch.float32)
    weight = 1.0 - alpha_bar
    with torch.no_grad():
        clean = latent.detach().float()
        noise = torch.randn(clean.shape, generator=generator, device="cpu").to(clean.device)
        noisy = alpha_bar.sqrt() * clean + (1.0 - alpha_bar).sqrt() * noise
        timestep = torch.full((latent.shape[0],), t, device=latent.device, dtype=torch.long)
        eps_hat = denoise(noisy.to(latent.dtype), timestep).float()
        grad = torch.nan_to_num(weight * (eps_hat - noise), nan=0.0, posinf=0.0, neginf=0.0)
        if config.grad_clip is not None:
            grad = grad.clamp(-config.grad_clip, config.grad_clip)
        grad = grad * hole.to(grad)
    return DistillationStep(
        loss=surrogate_loss(latent, grad),
        grad=grad,
        timestep=t,
        weight=weight,
        noise=noise,
        eps_hat=eps_hat,
    )

"""The one protocol every 2D inpainting prior implements.

Why a protocol and not a base class: a pretrained latent diffusion pipeline (diffusers) and the
project's own pixel-space model share no code, only this contract, and the joint stage, the
per-view baseline and the tests (stub denoisers) must be able to swap them freely.

Conventions: images are float tensors (B, 3, H, W) in [0, 1] on the prior's device; masks are
(B, 1, H, W) with 1 = region to generate. `H, W` equal `resolution` for `sds_loss`.

Both shipped priors also carry two optional attributes (read with getattr and a default, so stub
priors need not define them): `device` (where inputs must live) and `crop_context` (crop side /
hole bounding-box side the prior expects around a hole, for SDS crops and per-view fills).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch


@dataclass(frozen=True)
class SDSOutput:
    """loss: scalar surrogate whose gradient w.r.t. `rendered` is the (masked) SDS gradient.
    grad_norm: norm of that gradient, a 0-d tensor on the prior's device (reading it waits for the
    GPU, so only logging code should); timestep: the t drawn for this step."""

    loss: torch.Tensor
    grad_norm: torch.Tensor
    timestep: int


@runtime_checkable
class InpaintingPrior(Protocol):
    resolution: int  # side of the square crops the prior works on

    def sds_loss(
        self, rendered: torch.Tensor, cond_image: torch.Tensor, mask: torch.Tensor, progress: float
    ) -> SDSOutput:
        """SDS for `rendered` (with grad) conditioned on `cond_image` with the hole `mask` blanked.

        progress in [0, 1] drives the timestep annealing (toward small t as training proceeds).
        """
        ...

    def inpaint(self, image: torch.Tensor, mask: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """Whole-image sampling: the hole of `image` filled, known pixels kept."""
        ...

"""What every sampler returns, and the interface the renderer and trainer rely on.

Two layouts exist because nerfacc offers two: batched (n_rays, n_samples) tensors, which its
rendering functions accept on any device, and packed (all_samples,) tensors with a ray index
per sample, which its CUDA occupancy-grid marching produces. `ray_indices is None` means
batched. Code downstream uses nerfacc's functions, which accept both, and never branches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

DensityFn = Callable[[torch.Tensor], torch.Tensor]  # world points (N, 3) -> density (N,)


@dataclass
class RaySamples:
    t_starts: torch.Tensor
    t_ends: torch.Tensor
    ray_indices: torch.Tensor | None = None

    @property
    def packed(self) -> bool:
        return self.ray_indices is not None

    def positions(self, origins: torch.Tensor, directions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Midpoint positions and directions, shaped like the samples with a trailing 3."""
        t_mid = 0.5 * (self.t_starts + self.t_ends)
        if self.packed:
            o, d = origins[self.ray_indices], directions[self.ray_indices]
        else:
            o, d = origins[:, None, :].expand(*t_mid.shape, 3), directions[:, None, :].expand(*t_mid.shape, 3)
        return o + d * t_mid[..., None], d

    def per_ray(self, ray_values: torch.Tensor) -> torch.Tensor:
        """Broadcast a per-ray tensor (R, ...) to the sample layout."""
        if self.packed:
            return ray_values[self.ray_indices]
        return ray_values[:, None].expand(*self.t_starts.shape, *ray_values.shape[1:])


class Sampler(Protocol):
    """Places samples along rays. `update` lets samplers with state (occupancy grids) refresh it."""

    def sample(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        near: torch.Tensor,
        far: torch.Tensor,
        density_fn: DensityFn,
        training: bool,
    ) -> RaySamples: ...

    def update(self, step: int, density_fn: DensityFn) -> None: ...

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Tensors to checkpoint (empty for stateless samplers)."""
        ...

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None: ...

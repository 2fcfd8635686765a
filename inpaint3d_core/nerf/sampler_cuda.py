"""nerfacc occupancy-grid sampler (CUDA only): marches rays through occupied cells only.

Multi-level grids (each level doubles the box) cover the unbounded scene around the normalised
inner region, matching the field's contraction; the grid is refreshed from the field's density
every `update_every` steps during training (nerfacc's EMA update), and rebuilt from the field
when a trained model is loaded for rendering.
"""

from __future__ import annotations

import nerfacc
import torch

from inpaint3d_core.nerf.samples import DensityFn, RaySamples

# Points per density evaluation inside nerfacc's no-grad calls (grid updates, marching). The
# pure-torch hash grid holds ~(levels x 8 corners) indices and features per point, so a whole
# 128^3 x 4-level grid at once needs >10 GiB; 2^20 points keep it near 1 GiB.
DENSITY_CHUNK = 1 << 20


def chunked_density(density_fn: DensityFn, points: torch.Tensor, chunk: int = DENSITY_CHUNK) -> torch.Tensor:
    """density_fn over `points` in slices of `chunk` (same result, bounded peak memory)."""
    if points.shape[0] <= chunk:
        return density_fn(points)
    return torch.cat([density_fn(points[start : start + chunk]) for start in range(0, points.shape[0], chunk)])


class OccupancyGridSampler:
    def __init__(
        self,
        inner_radius: float = 1.0,
        resolution: int = 128,
        levels: int = 4,
        render_step_size: float = 5e-3,
        cone_angle: float = 4e-3,
        alpha_threshold: float = 1e-3,
        update_every: int = 16,
        occupancy_threshold: float = 1e-2,
        device: torch.device | str = "cuda",
    ):
        r = inner_radius
        self.estimator = nerfacc.OccGridEstimator(
            roi_aabb=[-r, -r, -r, r, r, r], resolution=resolution, levels=levels
        ).to(device)
        self.render_step_size = render_step_size
        self.cone_angle = cone_angle
        self.alpha_threshold = alpha_threshold
        self.update_every = update_every
        self.occupancy_threshold = occupancy_threshold

    def _occupancy(self, density_fn: DensityFn):
        return lambda x: chunked_density(density_fn, x)[:, None] * self.render_step_size

    def sample(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        near: torch.Tensor,
        far: torch.Tensor,
        density_fn: DensityFn,
        training: bool,
    ) -> RaySamples:
        def sigma_fn(t_starts, t_ends, ray_indices):
            t_mid = 0.5 * (t_starts + t_ends)
            return chunked_density(density_fn, origins[ray_indices] + directions[ray_indices] * t_mid[:, None])

        ray_indices, t_starts, t_ends = self.estimator.sampling(
            origins,
            directions,
            sigma_fn=sigma_fn,
            t_min=near,
            t_max=far,
            render_step_size=self.render_step_size,
            stratified=training,
            cone_angle=self.cone_angle,
            alpha_thre=self.alpha_threshold,
        )
        return RaySamples(t_starts, t_ends, ray_indices.long())

    def update(self, step: int, density_fn: DensityFn) -> None:
        self.estimator.train()
        self.estimator.update_every_n_steps(
            step=step,
            occ_eval_fn=self._occupancy(density_fn),
            occ_thre=self.occupancy_threshold,
            n=self.update_every,
        )

    @torch.no_grad()
    def rebuild(self, density_fn: DensityFn) -> None:
        """Evaluate every cell once (for a field loaded from disk, whose grid was not saved)."""
        self.estimator._update(step=0, occ_eval_fn=self._occupancy(density_fn), occ_thre=self.occupancy_threshold)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {"occs": self.estimator.occs.detach().clone(), "binaries": self.estimator.binaries.detach().clone()}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        self.estimator.occs.copy_(tensors["occs"])
        self.estimator.binaries.copy_(tensors["binaries"])

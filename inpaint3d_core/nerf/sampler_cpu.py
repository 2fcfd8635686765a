"""Pure-torch stratified + resampling sampler (any device; the CPU path).

nerfacc's marching and importance sampling need CUDA, so on CPU we use the classic two-pass
scheme: coarse stratified intervals, a gradient-free density pass on them, then new interval
edges drawn by inverse-CDF from the coarse weights and merged with the coarse edges. The result
is a batched (n_rays, n_samples) layout that nerfacc's batched rendering accepts. The density
pass reuses the field itself (no separate proposal network), which is cheap at toy sizes.
"""

from __future__ import annotations

import nerfacc
import torch

from inpaint3d_core.nerf.config import Spacing
from inpaint3d_core.nerf.samples import DensityFn, RaySamples


def _spaced(u: torch.Tensor, near: torch.Tensor, far: torch.Tensor, spacing: Spacing) -> torch.Tensor:
    """Map u in [0, 1] (R, K) to distances between per-ray near and far (R,)."""
    near, far = near[:, None], far[:, None]
    if spacing == "linear":
        return near + (far - near) * u
    return 1.0 / (1.0 / near * (1.0 - u) + 1.0 / far * u)  # uniform in disparity: denser close by


def inverse_cdf(edges: torch.Tensor, weights: torch.Tensor, n: int, stratified: bool) -> torch.Tensor:
    """Draw `n` distances per ray from the piecewise-constant pdf `weights` (R, K) over `edges` (R, K+1)."""
    pdf = weights + 1e-5  # a floor keeps empty rays sampled uniformly instead of collapsing
    pdf = pdf / pdf.sum(dim=-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[:, :1]), pdf.cumsum(dim=-1).clamp(max=1.0)], dim=-1)
    u = (torch.arange(n, device=edges.device, dtype=edges.dtype) + 0.5) / n
    u = u.expand(edges.shape[0], n)
    if stratified:
        u = u + (torch.rand_like(u) - 0.5) / n
    u = u.contiguous()
    idx = torch.searchsorted(cdf, u, right=True).clamp(1, cdf.shape[-1] - 1)
    cdf_lo, cdf_hi = cdf.gather(-1, idx - 1), cdf.gather(-1, idx)
    t_lo, t_hi = edges.gather(-1, idx - 1), edges.gather(-1, idx)
    frac = ((u - cdf_lo) / (cdf_hi - cdf_lo).clamp_min(1e-8)).clamp(0.0, 1.0)
    return t_lo + frac * (t_hi - t_lo)


class StratifiedResampler:
    """Coarse stratified intervals, then `num_fine` importance-sampled edges merged in."""

    def __init__(self, num_coarse: int = 32, num_fine: int = 32, spacing: Spacing = "disparity"):
        self.num_coarse = num_coarse
        self.num_fine = num_fine
        self.spacing = spacing

    def sample(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        near: torch.Tensor,
        far: torch.Tensor,
        density_fn: DensityFn,
        training: bool,
    ) -> RaySamples:
        n_rays = origins.shape[0]
        u = torch.linspace(0.0, 1.0, self.num_coarse + 1, device=origins.device).expand(n_rays, -1)
        if training:  # jitter interior edges within their bins
            jitter = (torch.rand(n_rays, self.num_coarse - 1, device=origins.device) - 0.5) / self.num_coarse
            u = torch.cat([u[:, :1], u[:, 1:-1] + jitter, u[:, -1:]], dim=-1)
        edges = _spaced(u, near, far, self.spacing)
        if self.num_fine > 0:
            with torch.no_grad():
                coarse = RaySamples(edges[:, :-1], edges[:, 1:])
                points, _ = coarse.positions(origins, directions)
                sigma = density_fn(points.reshape(-1, 3)).view(n_rays, self.num_coarse)
                weights, _, _ = nerfacc.render_weight_from_density(coarse.t_starts, coarse.t_ends, sigma)
                fine = inverse_cdf(edges, weights, self.num_fine, stratified=training)
            edges, _ = torch.sort(torch.cat([edges, fine], dim=-1), dim=-1)
        return RaySamples(edges[:, :-1].contiguous(), edges[:, 1:].contiguous())

    def update(self, step: int, density_fn: DensityFn) -> None:
        """Stateless: nothing to refresh."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Stateless: nothing to restore."""

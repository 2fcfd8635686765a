"""The radiance field: contraction -> hash grid -> density MLP -> colour MLP (view + appearance).

Shaped after nerfstudio's Instant-NGP field: a geometry branch whose first output is density
and whose remaining outputs are a feature vector, and a colour branch that sees that feature
plus the viewing direction (spherical harmonics) and, optionally, a per-view appearance code
that absorbs a phone's exposure and white-balance changes so they are not baked into geometry.
"""

from __future__ import annotations

import torch
from torch import nn

from inpaint3d_core.nerf.compiled import CompiledOrEager, wants_compile
from inpaint3d_core.nerf.config import CompileMode, FieldConfig
from inpaint3d_core.nerf.contraction import contract
from inpaint3d_core.nerf.encoding import HashGridEncoding, spherical_harmonics


class _TruncExp(torch.autograd.Function):
    """exp with a clamped gradient: density activations may grow large without exploding grads."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.exp(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.exp(x.clamp(max=15.0))


def trunc_exp(x: torch.Tensor) -> torch.Tensor:
    return _TruncExp.apply(x)


def _mlp(in_dim: int, hidden: int, out_dim: int, layers: int) -> nn.Sequential:
    dims = [in_dim] + [hidden] * layers
    mods: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        mods += [nn.Linear(a, b), nn.ReLU(inplace=True)]
    mods.append(nn.Linear(dims[-1], out_dim))
    return nn.Sequential(*mods)


class RadianceField(nn.Module):
    def __init__(self, config: FieldConfig):
        super().__init__()
        self.config = config
        self.encoding = HashGridEncoding(
            levels=config.levels,
            features_per_level=config.features_per_level,
            log2_table_size=config.log2_table_size,
            base_resolution=config.base_resolution,
            max_resolution=config.max_resolution,
        )
        self.density_mlp = _mlp(self.encoding.output_dim, config.hidden_dim, 1 + config.geo_feature_dim, 1)
        use_appearance = config.appearance_dim > 0 and config.num_views > 0
        self.appearance = nn.Embedding(config.num_views, config.appearance_dim) if use_appearance else None
        if self.appearance is not None:
            nn.init.zeros_(self.appearance.weight)  # start as "no exposure change" for every view
        color_in = config.geo_feature_dim + config.sh_degree**2 + (config.appearance_dim if use_appearance else 0)
        self.color_mlp = _mlp(color_in, config.color_hidden_dim, 3, config.color_layers)
        self._density_impl = self._density_eager
        self._forward_impl = self._forward_eager

    def use_compile(self, mode: CompileMode, device: torch.device, backend: str = "inductor") -> bool:
        """Route density and forward through `torch.compile` when `mode` asks for it on `device`
        (see `nerf.compiled`); returns whether compiled code will be tried."""
        if wants_compile(mode, device):
            self._density_impl = CompiledOrEager(self._density_eager, "field density", backend)
            self._forward_impl = CompiledOrEager(self._forward_eager, "field forward", backend)
        else:
            self._density_impl, self._forward_impl = self._density_eager, self._forward_eager
        return isinstance(self._forward_impl, CompiledOrEager) and self._forward_impl.active

    def _geometry(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.density_mlp(self.encoding(contract(x, self.config.contraction, self.config.inner_radius)))
        # Bias of -1 keeps the initial field nearly empty, which avoids an opaque fog at step 0.
        return trunc_exp(h[:, 0] - 1.0), h[:, 1:]

    def density(self, x: torch.Tensor) -> torch.Tensor:
        """Density (N,) at world points (N, 3)."""
        return self._density_impl(x)

    def _density_eager(self, x: torch.Tensor) -> torch.Tensor:
        return self._geometry(x)[0]

    def forward(
        self, x: torch.Tensor, directions: torch.Tensor, view_ids: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Colour (N, 3) in [0, 1] and density (N,) at world points seen along unit `directions`.

        view_ids: (N,) training-view index per point for the appearance code; None uses the mean
        code (novel views have no exposure of their own).
        """
        return self._forward_impl(x, directions, view_ids)

    def _forward_eager(
        self, x: torch.Tensor, directions: torch.Tensor, view_ids: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        sigma, geo = self._geometry(x)
        parts = [geo, spherical_harmonics(directions, self.config.sh_degree)]
        if self.appearance is not None:
            if view_ids is None:
                code = self.appearance.weight.mean(dim=0, keepdim=True).expand(x.shape[0], -1)
            else:
                code = self.appearance(view_ids)
            parts.append(code)
        rgb = torch.sigmoid(self.color_mlp(torch.cat(parts, dim=-1)))
        return rgb, sigma

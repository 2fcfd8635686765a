"""Scene contraction: maps unbounded world space into the unit cube the hash grid covers.

Why: real captures (phone photos outdoors, rooms) see content far behind the object of
interest. Mip-NeRF 360's contraction keeps the normalised scene (cameras inside radius ~1,
see `cameras.fit_normalization`) at full resolution and squeezes everything beyond into a
shell, so far geometry still has somewhere to live instead of becoming floaters near the
cameras. The inf-norm variant fills the cube the grid is laid out in; the L2 variant is the
original ball.
"""

from __future__ import annotations

import torch

from inpaint3d_core.nerf.config import ContractionKind


def contract(x: torch.Tensor, kind: ContractionKind = "linf", inner_radius: float = 1.0) -> torch.Tensor:
    """World points (N, 3) -> contracted coordinates in [0, 1]^3.

    Points with norm <= `inner_radius` are mapped linearly; beyond, radius r becomes
    `2 - inner_radius / r` (in units of `inner_radius`), reaching 2 at infinity. "none" maps the
    box [-inner_radius, inner_radius]^3 linearly and clamps outside it (bounded scenes).
    """
    y = x / inner_radius
    if kind == "none":
        return ((y + 1.0) / 2.0).clamp(0.0, 1.0)
    if kind == "linf":
        norm = y.abs().amax(dim=-1, keepdim=True)
    elif kind == "l2":
        norm = y.norm(dim=-1, keepdim=True)
    else:
        raise ValueError(f"unknown contraction {kind!r}: use 'linf', 'l2' or 'none'")
    safe = norm.clamp_min(1.0)
    y = torch.where(norm <= 1.0, y, (2.0 - 1.0 / safe) * (y / safe))
    return (y + 2.0) / 4.0

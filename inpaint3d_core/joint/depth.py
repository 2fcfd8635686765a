"""Depth supervision in the hole, and the regularisers that keep floaters out of it.

The paper uses "predicted depth as additional supervision" in the masked region. Our choice:

1. The reconstruction-only warm-up (masked rays dropped) predicts depth everywhere the views
   agree, i.e. around the hole. Inside the hole it knows nothing (or the removed object).
2. For each view, the hole's depth is filled from the ring of rendered depth around it by a
   harmonic (Laplace) interpolation of *disparity* (1 / z). Why disparity: a plane's
   disparity is an affine function of pixel coordinates, and affine functions are harmonic, so
   a single surface behind the removed object (floor, wall, table) is continued exactly; where
   several surfaces meet, the fill is the smoothest surface spanning the ring.
3. In the joint phase, rays through hole pixels are pulled toward that depth (relative L1),
   opacity in front of it is penalised (free space: floaters are exactly density in front of
   the surface), and the ray is asked to be opaque. SDS decides the colour.

The alternative "depth from the prior" was not taken: neither prior predicts depth.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import torch

from inpaint3d_core.nerf.renderer import RenderOutput


def fill_hole_depth(depth: np.ndarray, hole: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Harmonic fill of the disparity of `depth` (H, W) inside `hole` (H, W bool).

    `valid` marks pixels outside the hole whose depth can be trusted as boundary values
    (default: positive depth). Hole components touching no valid pixel keep the median valid
    depth. Returns a float32 copy with the hole replaced.
    """
    depth = np.asarray(depth, dtype=np.float64)
    hole = np.asarray(hole, dtype=bool)
    valid = (depth > 0) & ~hole if valid is None else (np.asarray(valid, dtype=bool) & ~hole)
    out = depth.astype(np.float32).copy()
    if not hole.any():
        return out
    if not valid.any():
        raise ValueError("fill_hole_depth: no valid depth outside the hole to fill it from")
    disparity = np.zeros_like(depth)
    disparity[valid] = 1.0 / depth[valid]
    unknown = hole | ~valid  # untrusted pixels outside the hole are solved for too
    index = -np.ones(depth.shape, dtype=np.int64)
    index[unknown] = np.arange(int(unknown.sum()))
    h, w = depth.shape
    rows, cols, vals = [], [], []
    rhs = np.zeros(int(unknown.sum()))
    ys, xs = np.nonzero(unknown)
    degree = np.zeros(len(ys))
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        degree += inside
        k = np.flatnonzero(inside)
        nyk, nxk = ny[k], nx[k]
        neighbour_unknown = unknown[nyk, nxk]
        ku = k[neighbour_unknown]
        rows.append(index[ys[ku], xs[ku]])
        cols.append(index[nyk[neighbour_unknown], nxk[neighbour_unknown]])
        vals.append(-np.ones(len(ku)))
        kk = k[~neighbour_unknown]
        rhs[kk] += disparity[ny[kk], nx[kk]]
    n = len(ys)
    diag = np.arange(n)
    # A tiny diagonal regulariser pins components without any known neighbour to disparity 0,
    # which is replaced by the median below; elsewhere it is negligible.
    matrix = scipy.sparse.csr_matrix(
        (np.concatenate([degree + 1e-9, *vals]), (np.concatenate([diag, *rows]), np.concatenate([diag, *cols]))),
        shape=(n, n),
    )
    solved = scipy.sparse.linalg.spsolve(matrix.tocsc(), rhs)
    fallback = float(np.median(depth[valid]))
    filled = np.where(solved > 1e-6, 1.0 / np.maximum(solved, 1e-6), fallback)
    out[hole] = filled[index[hole]].astype(np.float32)
    return out


def depth_loss(distance: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Relative L1 between rendered and target distance along the ray (scale-free)."""
    return ((distance - target).abs() / target.clamp_min(1e-6)).mean()


def freespace_loss(out: RenderOutput, target: torch.Tensor, margin: float) -> torch.Tensor:
    """Mean over rays of the opacity rendered closer than (1 - margin) x target distance."""
    t_mid = 0.5 * (out.samples.t_starts + out.samples.t_ends)
    in_front = (t_mid < out.samples.per_ray(target) * (1.0 - margin)).to(out.weights.dtype)
    return out.per_ray_sum(in_front).mean()


def opacity_loss(out: RenderOutput) -> torch.Tensor:
    """Hole rays should end on a surface: penalise transparency."""
    return ((1.0 - out.acc) ** 2).mean()

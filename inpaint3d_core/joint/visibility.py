"""Which hole pixels other views observe: the part of a mask that SDS must not repaint.

Why: Inpaint3D applies SDS over the whole mask of every view. In a capture that moves around
the object, much of what the mask hides in one view is photographed by others (the wall behind
a vase, seen past its side): with exact depth, 84% of the hole pixels of the quick synthetic
scenes are seen unmasked by another view. Those views' reconstruction loss already fixes that
content, and SDS from a prior that only sees this view's context paints over it with
plausible but different texture: on the synthetic orbit scenes (H100, full preset at 1/8 of
its steps, 3 seeds) joint SDS over the whole mask scored 18.3 dB masked PSNR against 26.8 dB
for reconstruction alone. So the generative region is the part of the hole no other view
observes; the observed part is given to the prior as context and to the depth terms as target.

How: surface points are *splatted from the other views into the hole*, not traced from the
hole outward. The warm-up field (trained on unmasked pixels only) is constrained only where
some view saw the scene unmasked; inside the object's volume every ray was masked, so the
depth it renders in a hole is arbitrary (median relative error 0.2-0.85 against the exact
background depth in the quick scenes, against 0.14-0.2 outside holes). Each other view's
unmasked, opaque pixels are back-projected with its own warm-up depth and projected into the
hole view; where one lands inside the hole, in front of the camera, that hole pixel is
observed, and the nearest such point (a z-buffer over all other views) gives its depth and its
colour (the other view's photo). A point landing in the hole cannot be in front of the object
there (the pixel would then show it, not the object), so no occlusion test is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inpaint3d_core.masks import morphology


@dataclass
class HoleObservation:
    """What other views show of one view's hole: a bool mask, and per observed pixel the nearest
    splatted z-depth (0 elsewhere) and its colour (uint8, from the observing view's image)."""

    observed: np.ndarray  # (H, W) bool
    depth: np.ndarray  # (H, W) float32 z-depth in the hole view, 0 where unobserved
    rgb: np.ndarray  # (H, W, 3) uint8, 0 where unobserved


def backproject(depth: np.ndarray, ys: np.ndarray, xs: np.ndarray, K: np.ndarray, c2w: np.ndarray) -> np.ndarray:
    """World points (P, 3) of pixel centres (xs, ys) at z-depth `depth[ys, xs]` (OpenCV camera)."""
    pixels = np.stack([xs + 0.5, ys + 0.5, np.ones(len(xs))], axis=-1)
    camera = (pixels @ np.linalg.inv(K).T) * depth[ys, xs][:, None]
    return camera @ c2w[:3, :3].T + c2w[:3, 3]


def observe_hole(
    view: int,
    images: Sequence[np.ndarray],
    depths: Sequence[np.ndarray],
    accs: Sequence[np.ndarray],
    holes: Sequence[np.ndarray],
    K: np.ndarray,
    c2w: np.ndarray,
) -> HoleObservation:
    """Splat every other view's unmasked, opaque warm-up surface into `holes[view]`.

    images/depths/accs: per training view, the photo (uint8) and the warm-up z-depth and opacity
    (same size as its hole); K (N, 3, 3), c2w (N, 4, 4) OpenCV camera-to-world. Pixels between
    splats stay unobserved: SDS paints them, which is harmless where they are isolated.
    """
    hole = np.asarray(holes[view], dtype=bool)
    h, w = hole.shape
    zbuffer = np.full(h * w, np.inf)
    colour = np.zeros((h * w, 3), dtype=np.uint8)
    w2c = np.linalg.inv(c2w[view])
    for other in range(len(holes)):
        if other == view:
            continue
        ys, xs = np.nonzero(~np.asarray(holes[other], dtype=bool) & (accs[other] > 0.5) & (depths[other] > 0))
        camera = backproject(depths[other], ys, xs, K[other], c2w[other]) @ w2c[:3, :3].T + w2c[:3, 3]
        z = camera[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (camera @ K[view].T)[:, :2] / z[:, None]
        keep = (z > 1e-6) & np.isfinite(uv).all(axis=1)
        keep &= (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        flat = uv[keep, 1].astype(np.int64) * w + uv[keep, 0].astype(np.int64)
        inside = hole.ravel()[flat]
        flat, z_in, src = flat[inside], z[keep][inside], np.flatnonzero(keep)[inside]
        nearer = z_in < zbuffer[flat]
        # several points may hit one pixel: order by depth so the nearest is written last
        order = np.argsort(-z_in[nearer])
        target, z_near, from_pixel = flat[nearer][order], z_in[nearer][order], src[nearer][order]
        zbuffer[target] = z_near
        colour[target] = np.asarray(images[other])[ys[from_pixel], xs[from_pixel]]
    observed = np.isfinite(zbuffer).reshape(h, w)
    depth = np.where(observed, zbuffer.reshape(h, w), 0.0).astype(np.float32)
    return HoleObservation(observed=observed, depth=depth, rgb=colour.reshape(h, w, 3))


def generative_region(hole: np.ndarray, observed: np.ndarray, margin_px: int = 2) -> np.ndarray:
    """The part of `hole` SDS fills: the unobserved pixels grown by `margin_px` (within the
    hole) so the prior blends its content into the observed part."""
    hole = np.asarray(hole, dtype=bool)
    unobserved = (hole & ~observed).astype(np.uint8)
    return morphology.dilate(unobserved, margin_px).astype(bool) & hole

"""Snap a projected silhouette to the object's outline in the image, without any model weights.

Why: the silhouette projected from sparse 3D points is right in the middle and wrong at the
edges. Points sit on pixel centres of surfaces two or more views saw, so the outline runs a
little inside the true one all round, and a sliver of the object that only this view sees (the
far side of an object at the end of a camera arc) carries no points at all. Both errors live
in a narrow band around the silhouette, and the image itself says where the object ends there.

How: OpenCV GrabCut (colour mixture models + graph cut) on a crop around the silhouette, set
up so it can only move the outline within that band: the silhouette eroded by half the band is
sure object, everything beyond the band is sure background, and visible background points of
this view (pixels SfM saw as something else) are sure background too; the band in between is
"probably object" inside the silhouette and "probably background" outside. The colour models
are fitted on the crop only, so they describe the object and its immediate surroundings.
A hard cut splits each edge pixel at about half coverage; `add_touched_rim` then adds the ring
pixels the object still tints (a mask for inpainting must cover them, or a halo stays). The
result is accepted only when it still agrees with the projection (IoU at least a bound),
like SAM's agreement check, and when it has not grown onto the background
(`grew_onto_background`): where object and background share colours GrabCut can run off, and
then the projection is the safer mask.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint3d_core.masks import morphology


def _rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) view of any grey, RGB or RGBA image."""
    image = np.asarray(image)
    return np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image[..., :3]


def band_width(silhouette: np.ndarray, band: float) -> int:
    """Band half-width in pixels: `band` times the silhouette's size (square root of its area), at least 2."""
    return max(2, int(round(band * np.sqrt(float(np.count_nonzero(silhouette))))))


def _grabcut_labels(silhouette: np.ndarray, background_px: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """GrabCut's initial labels for one crop, and the sure-object core."""
    h, w = silhouette.shape
    core = morphology.erode(silhouette, max(1, width // 2))
    labels = np.full((h, w), cv2.GC_BGD, np.uint8)
    labels[morphology.dilate(silhouette, width) > 0] = cv2.GC_PR_BGD
    labels[silhouette > 0] = cv2.GC_PR_FGD
    if len(background_px):
        px = np.clip(background_px.astype(np.int64), 0, [w - 1, h - 1])
        labels[px[:, 1], px[:, 0]] = cv2.GC_BGD
    labels[core > 0] = cv2.GC_FGD
    return labels, core


def grabcut_refine(
    image: np.ndarray,
    silhouette: np.ndarray,
    background_px: np.ndarray,
    band: float,
    iterations: int,
    max_size: int,
) -> np.ndarray:
    """uint8 (H, W) mask: `silhouette` moved to the image's object outline within its band.

    image: (H, W, 3) uint8 (grey and RGBA work too); silhouette: (H, W) 0/1; background_px: (M, 2) pixel xy of visible
    background points; band: band half-width as a fraction of the silhouette's size; max_size:
    GrabCut runs on a copy scaled so the silhouette's size is at most this many pixels (its cost
    grows with the crop's pixels; finer than that the outline is left to `add_touched_rim`).
    Returns the silhouette unchanged when it is empty or leaves no room for a band.
    """
    silhouette = morphology.as_binary(silhouette)
    if not silhouette.any():
        return silhouette
    h, w = silhouette.shape
    size = float(np.sqrt(np.count_nonzero(silhouette)))
    width = band_width(silhouette, band)
    # Crop: the band plus as much again of sure background, so the colour models are local.
    ys, xs = np.nonzero(silhouette)
    x0, x1 = max(xs.min() - 2 * width, 0), min(xs.max() + 1 + 2 * width, w)
    y0, y1 = max(ys.min() - 2 * width, 0), min(ys.max() + 1 + 2 * width, h)
    crop_image = np.ascontiguousarray(_rgb(image)[y0:y1, x0:x1], dtype=np.uint8)
    crop_silhouette = silhouette[y0:y1, x0:x1]
    crop_points = np.asarray(background_px, np.float64).reshape(-1, 2) - [x0, y0]
    crop_points = crop_points[((crop_points >= 0) & (crop_points < [x1 - x0, y1 - y0])).all(axis=1)]

    scale = min(1.0, max_size / size)
    work_size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    if scale < 1.0:
        work_image = cv2.resize(crop_image, work_size, interpolation=cv2.INTER_AREA)
        work_silhouette = (cv2.resize(crop_silhouette.astype(np.float32), work_size) >= 0.5).astype(np.uint8)
    else:
        work_image, work_silhouette = crop_image, crop_silhouette
    labels, core = _grabcut_labels(work_silhouette, crop_points * scale, max(2, round(width * scale)))
    if not core.any() or not np.isin(labels, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
        return silhouette
    background_model = np.zeros((1, 65), np.float64)
    object_model = np.zeros((1, 65), np.float64)
    # GrabCut seeds its colour models from OpenCV's global RNG: without a fixed seed the same
    # view gives a different mask depending on what ran before it in the process.
    cv2.setRNGSeed(0)
    cv2.grabCut(work_image, labels, None, background_model, object_model, iterations, cv2.GC_INIT_WITH_MASK)

    found = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    # Only what hangs together with the sure object counts; specks of object colour in the band do not.
    n_labels, components = cv2.connectedComponents(found)
    touching = np.zeros(n_labels, bool)
    touching[np.unique(components[core > 0])] = True
    touching[0] = False
    found = touching[components].astype(np.float32)
    if scale < 1.0:
        found = cv2.resize(found, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    refined = np.zeros((h, w), np.uint8)
    refined[y0:y1, x0:x1] = found >= 0.5
    return morphology.fill_holes(refined)


def add_touched_rim(image: np.ndarray, mask: np.ndarray, min_alpha: float) -> np.ndarray:
    """`mask` plus the pixels just outside it that the object partly covers.

    Why: a hard segmentation splits each edge pixel at about half coverage, but a mask for
    inpainting must cover every pixel the object tints (a halo left outside the hole stays in
    the result). For each pixel of the one-pixel ring outside the mask, the local object colour
    F (mean of the mask's own edge pixels nearby) and background colour B (mean of the pixels two
    to three pixels out) give its coverage alpha = <C - B, F - B> / |F - B|^2 along the edge
    normal; pixels with alpha >= min_alpha join.
    """
    mask = morphology.as_binary(mask)
    if not mask.any():
        return mask
    colour = _rgb(image).astype(np.float32)
    ring = morphology.dilate(mask, 1) & (1 - mask)
    inner = mask & (1 - morphology.erode(mask, 1))
    outer = morphology.dilate(mask, 3) & (1 - morphology.dilate(mask, 1))

    def local_mean(region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weight = cv2.boxFilter(region.astype(np.float32), -1, (5, 5), normalize=False)
        total = cv2.boxFilter(colour * region[..., None], -1, (5, 5), normalize=False)
        return total / np.maximum(weight, 1e-6)[..., None], weight > 0

    fg, has_fg = local_mean(inner)
    bg, has_bg = local_mean(outer)
    contrast = fg - bg
    alpha = ((colour - bg) * contrast).sum(-1) / np.maximum((contrast * contrast).sum(-1), 1e-6)
    # Colours that barely differ say nothing about coverage (alpha would be noise): 8 grey levels.
    decisive = (contrast * contrast).sum(-1) >= 64.0
    joins = (ring > 0) & has_fg & has_bg & decisive & (alpha >= min_alpha)
    return (mask | joins).astype(np.uint8)


def grew_onto_background(
    refined: np.ndarray,
    projection: np.ndarray,
    background_px: np.ndarray,
    band: float,
    max_growth: float,
    max_background: float,
) -> bool:
    """True when `refined` took in background: it grew past the projection by more than
    `max_growth` of its area, or it covers more than `max_background` of the visible background
    points in the band around the projection (points SfM saw as something else).

    Why both: the points catch a run onto textured clutter even when the growth is small, and
    the area catches a run onto a plain surface (a white turntable, a bare floor) where there
    are no points at all. Legitimate snapping moves the outline by a pixel or two and adds the
    thin slivers only one view sees: a few percent of the area, no background points.
    """
    projection, refined = morphology.as_binary(projection), morphology.as_binary(refined)
    area = int(np.count_nonzero(projection))
    if area == 0:
        return False
    if np.count_nonzero(refined) > (1.0 + max_growth) * area:
        return True
    h, w = projection.shape
    px = np.clip(np.asarray(background_px, np.float64).reshape(-1, 2).astype(np.int64), 0, [w - 1, h - 1])
    near = morphology.dilate(projection, band_width(projection, band))[px[:, 1], px[:, 0]] > 0
    near &= projection[px[:, 1], px[:, 0]] == 0
    if not near.any():
        return False
    covered = refined[px[near, 1], px[near, 0]] > 0
    return bool(covered.mean() > max_background)

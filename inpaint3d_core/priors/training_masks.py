"""Holes for training the internal prior: random shapes plus the capture's own mask shapes.

Why both: random rectangles/ellipses/blobs teach the model to fill holes of any shape, while the
capture's own masks, cropped the way SDS crops them (`hole_crop` with the same context), teach
it the hole-to-context ratio and outline it will actually meet (in a feasibility probe on a real
capture, training on its own mask shapes with a wider context gave one smooth texture per hole,
where random shapes with a thin ring of context gave patchy fills).
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaint3d_core.boxes import hole_crop


def own_mask_shapes(masks: list[np.ndarray], resolution: int, context: float) -> list[np.ndarray]:
    """Each non-empty capture mask cropped like an SDS crop and resized to (resolution, resolution)."""
    shapes = []
    for mask in masks:
        hole = np.asarray(mask) > 0
        if not hole.any():
            continue
        box = hole_crop(hole, context=context)
        crop = box.crop(hole).astype(np.uint8)
        shapes.append(cv2.resize(crop, (resolution, resolution), interpolation=cv2.INTER_NEAREST))
    return shapes


def _rectangle(rng: np.random.Generator, res: int) -> np.ndarray:
    mask = np.zeros((res, res), np.uint8)
    h, w = (rng.uniform(0.2, 0.6, 2) * res).astype(int) + 1
    y, x = rng.integers(0, res - h + 1), rng.integers(0, res - w + 1)
    mask[y : y + h, x : x + w] = 1
    return mask


def _ellipse(rng: np.random.Generator, res: int) -> np.ndarray:
    mask = np.zeros((res, res), np.uint8)
    axes = tuple(int(a) for a in (rng.uniform(0.1, 0.3, 2) * res) + 1)
    centre = tuple(int(c) for c in rng.uniform(0.25, 0.75, 2) * res)
    cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, thickness=-1)
    return mask


def _blob(rng: np.random.Generator, res: int) -> np.ndarray:
    """Smooth random field thresholded to cover 15-50% of the crop: irregular, object-like outlines."""
    field = cv2.resize(rng.standard_normal((4, 4)).astype(np.float32), (res, res), interpolation=cv2.INTER_CUBIC)
    return (field > np.quantile(field, 1.0 - rng.uniform(0.15, 0.5))).astype(np.uint8)


_RANDOM_SHAPES = (_rectangle, _ellipse, _blob)


def sample_training_masks(
    rng: np.random.Generator, count: int, res: int, own_shapes: list[np.ndarray], own_fraction: float
) -> np.ndarray:
    """(count, res, res) uint8 holes; a fraction `own_fraction` from `own_shapes` (randomly flipped
    and rotated by multiples of 90 degrees), the rest random shapes."""
    masks = np.empty((count, res, res), np.uint8)
    for i in range(count):
        if own_shapes and rng.random() < own_fraction:
            shape = own_shapes[rng.integers(len(own_shapes))]
            shape = np.rot90(shape, k=int(rng.integers(4)))
            masks[i] = shape[:, ::-1] if rng.random() < 0.5 else shape
        else:
            masks[i] = _RANDOM_SHAPES[rng.integers(len(_RANDOM_SHAPES))](rng, res)
    return masks

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
import torch

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


def _dihedral(shape: np.ndarray) -> list[np.ndarray]:
    """The 8 flips and rotations by multiples of 90 degrees of a square mask."""
    turns = [np.rot90(shape, k) for k in range(4)]
    return [np.ascontiguousarray(m) for t in turns for m in (t, t[:, ::-1])]


class HoleBank:
    """Training holes drawn from a bank made once: `size` random shapes plus every flip and
    rotation of the capture's own shapes, on the training device.

    Why a bank: drawing 256 shapes with OpenCV on the host took 12.6 ms of every training step at
    the full preset, time in which the GPU waited; a batch is now one gather on the device.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        size: int,
        res: int,
        own_shapes: list[np.ndarray],
        own_fraction: float,
        device: torch.device | str = "cpu",
    ):
        shapes = np.stack([_RANDOM_SHAPES[rng.integers(len(_RANDOM_SHAPES))](rng, res) for _ in range(size)])
        self.random = torch.from_numpy(shapes).to(device)
        own = [variant for shape in own_shapes for variant in _dihedral(shape)]
        self.own = torch.from_numpy(np.stack(own)).to(device) if own else None
        self.own_fraction = own_fraction

    def sample(self, rng: np.random.Generator, count: int) -> torch.Tensor:
        """(count, 1, res, res) float holes (1 = hole); a fraction `own_fraction` of own shapes."""
        device = self.random.device
        picks = torch.from_numpy(rng.integers(len(self.random), size=count)).to(device)
        holes = self.random[picks]
        if self.own is not None:
            use_own = torch.from_numpy(rng.random(count) < self.own_fraction).to(device)
            own_picks = torch.from_numpy(rng.integers(len(self.own), size=count)).to(device)
            holes = torch.where(use_own[:, None, None], self.own[own_picks], holes)
        return holes.float()[:, None]

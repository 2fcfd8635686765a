"""Windows of an image: one `Box` type, the window a prior sees around a hole, and that window
resized to the prior's side.

Why one module: the metrics' mask box, the per-view baseline's crop and the joint stage's SDS
crop all cut a window out of a view, and the per-view fill and SDS must show the prior exactly
the same pixels, so both use `hole_crop` and `resize_crop`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

DEFAULT_CONTEXT = 2.0


@dataclass(frozen=True)
class Box:
    """Rows y0:y1 and columns x0:x1 of an image."""

    y0: int
    y1: int
    x0: int
    x1: int

    def crop(self, image: np.ndarray) -> np.ndarray:
        return image[self.y0 : self.y1, self.x0 : self.x1]


def hole_crop(mask: np.ndarray, context: float = DEFAULT_CONTEXT, min_side: int = 16) -> Box:
    """The window a prior sees for one hole: the mask's bounding box grown `context` times around
    its centre, made square where the image allows (priors work on square crops and a square
    window avoids stretching), shifted (not shrunk) to stay inside the image.

    Why grow it: a prior continues what it sees around the hole; a tight crop gives it nothing.
    """
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    cy, cx = 0.5 * (ys.min() + ys.max() + 1), 0.5 * (xs.min() + xs.max() + 1)
    side = max(ys.max() + 1 - ys.min(), xs.max() + 1 - xs.min()) * context
    side = max(side, min_side)
    side_y, side_x = min(int(np.ceil(side)), height), min(int(np.ceil(side)), width)
    y0 = int(np.clip(round(cy - side_y / 2), 0, height - side_y))
    x0 = int(np.clip(round(cx - side_x / 2), 0, width - side_x))
    return Box(y0, y0 + side_y, x0, x0 + side_x)


def resize_crop(image: np.ndarray, hole: np.ndarray, box: Box, side: int) -> tuple[np.ndarray, np.ndarray]:
    """`box` of a uint8 image and of its hole at side x side: area-resampled colours, and the hole
    wherever any of its pixels falls (no pixel of the hole may leak into the known context)."""
    rgb = cv2.resize(box.crop(image), (side, side), interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(box.crop(hole).astype(np.float32), (side, side), interpolation=cv2.INTER_AREA) > 0
    return rgb, small_hole

"""Binary-mask morphology (OpenCV): dilation, closing, hole filling, area.

Why dilate at all: SDS and the reconstruction loss meet at the mask border; a mask that is a
few pixels too tight leaves the object's fringe (shadow, anti-aliased edge) to be reconstructed
as seen, so the stage stores both the raw mask and a dilated one for training.
"""

from __future__ import annotations

import cv2
import numpy as np


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def as_binary(mask: np.ndarray) -> np.ndarray:
    """uint8 0/1 copy of any boolean-like mask."""
    return (np.asarray(mask) > 0).astype(np.uint8)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grow the mask by `radius` pixels (round structuring element); radius 0 returns a copy."""
    mask = as_binary(mask)
    return cv2.dilate(mask, _disk(radius)) if radius > 0 else mask


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
    """Shrink the mask by `radius` pixels; pixels beyond the border count as background."""
    mask = as_binary(mask)
    if radius <= 0:
        return mask
    return cv2.erode(mask, _disk(radius), borderType=cv2.BORDER_CONSTANT, borderValue=0)


def close(mask: np.ndarray, radius: int) -> np.ndarray:
    """Dilate then erode: bridges gaps narrower than 2*radius without growing the outline.

    The image is padded first so shapes touching the border are not eaten by the erosion.
    """
    mask = as_binary(mask)
    if radius <= 0:
        return mask
    padded = cv2.copyMakeBorder(mask, radius, radius, radius, radius, cv2.BORDER_REPLICATE)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, _disk(radius))
    return closed[radius:-radius, radius:-radius]


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill every background region that does not touch the image border."""
    mask = as_binary(mask)
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 1)
    return (mask | (1 - flood[1:-1, 1:-1])).astype(np.uint8)


def area_fraction(mask: np.ndarray) -> float:
    """Fraction of the view's pixels inside the mask."""
    mask = np.asarray(mask)
    return float((mask > 0).sum()) / max(mask.size, 1)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (1.0 when both are empty)."""
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0

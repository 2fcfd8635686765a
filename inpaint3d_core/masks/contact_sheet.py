"""One PNG showing every view with its mask, to check masks at a glance before the costly stage."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import imageio.v3 as iio
import numpy as np

OVERLAY_RGB = np.array([255, 40, 40], dtype=np.float32)


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The image with the mask tinted red and its outline drawn (uint8 RGB)."""
    out = image[..., :3].astype(np.float32).copy()
    inside = mask > 0
    out[inside] = (1 - alpha) * out[inside] + alpha * OVERLAY_RGB
    out = out.astype(np.uint8)
    contours, _ = cv2.findContours((mask > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, (255, 255, 0), 1)
    return out


def _tile(image: np.ndarray, mask: np.ndarray, size: int, label: str) -> np.ndarray:
    """Overlay fitted into a size x size tile (aspect kept), label printed in the top-left corner."""
    shown = overlay(image, mask)
    h, w = shown.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
    tile = np.full((size, size, 3), 32, np.uint8)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    tile[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(shown, (nw, nh), interpolation=interp)
    font_scale = max(size / 400.0, 0.3)
    cv2.putText(tile, label, (3, 3 + int(22 * font_scale)), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), 3)
    cv2.putText(tile, label, (3, 3 + int(22 * font_scale)), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), 1)
    return tile


def contact_sheet(
    images: Sequence[np.ndarray], masks: Sequence[np.ndarray], labels: Sequence[str], tile: int = 192
) -> bytes:
    """PNG bytes of a grid of overlays, about square, `tile` pixels per view."""
    if not images:
        raise ValueError("contact_sheet needs at least one view")
    cols = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    sheet = np.full((rows * tile, cols * tile, 3), 16, np.uint8)
    for k, (image, mask, label) in enumerate(zip(images, masks, labels, strict=True)):
        r, c = divmod(k, cols)
        sheet[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = _tile(image, mask, tile, label)
    return iio.imwrite("<bytes>", sheet, extension=".png")

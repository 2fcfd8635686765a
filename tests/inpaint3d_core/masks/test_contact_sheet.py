"""Contact sheet: a decodable PNG grid with one tinted tile per view."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np

from inpaint3d_core.masks.contact_sheet import contact_sheet, overlay


def test_overlay_tints_only_the_mask():
    image = np.full((10, 10, 3), 100, np.uint8)
    mask = np.zeros((10, 10), np.uint8)
    mask[3:7, 3:7] = 1
    shown = overlay(image, mask)
    assert shown[5, 5, 0] > 100 and shown[5, 5, 1] < 100
    assert (shown[0, 0] == 100).all()


def test_sheet_is_a_grid_of_tiles():
    images = [np.full((24, 32, 3), 60 * i, np.uint8) for i in range(5)]
    masks = [np.eye(24, 32, dtype=np.uint8) for _ in range(5)]
    sheet = iio.imread(contact_sheet(images, masks, [f"v{i}" for i in range(5)], tile=40), extension=".png")
    assert sheet.shape == (2 * 40, 3 * 40, 3)

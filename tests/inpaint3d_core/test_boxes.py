"""Image windows: the hole's window is square, grown and inside the image; its resize keeps every hole pixel."""

from __future__ import annotations

import numpy as np

from inpaint3d_core.boxes import Box, hole_crop, resize_crop


def test_hole_crop_is_square_grown_and_inside_the_image():
    mask = np.zeros((40, 64), bool)
    mask[10:20, 30:44] = True  # 10 x 14 box -> side 28
    box = hole_crop(mask, context=2.0)
    assert (box.y1 - box.y0, box.x1 - box.x0) == (28, 28)
    assert box.y0 <= 10 and box.y1 >= 20 and box.x0 <= 30 and box.x1 >= 44
    corner = np.zeros((40, 64), bool)
    corner[35:40, 60:64] = True
    box = hole_crop(corner, context=3.0)
    assert box.y1 == 40 and box.x1 == 64 and box.y0 >= 0


def test_resize_crop_counts_any_covered_pixel_as_hole():
    image = np.zeros((32, 32, 3), np.uint8)
    image[:, 16:] = 200
    hole = np.zeros((32, 32), bool)
    hole[5, 5] = True  # one pixel: area resampling to 8 px would otherwise round it away
    rgb, small = resize_crop(image, hole, Box(0, 32, 0, 32), 8)
    assert rgb.shape == (8, 8, 3) and small.shape == (8, 8)
    assert small.sum() == 1 and small[1, 1]
    assert rgb[:, :4].max() == 0 and rgb[:, 4:].min() == 200

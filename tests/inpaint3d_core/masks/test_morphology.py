"""Mask morphology: dilation/erosion radii, closing at borders, hole filling, IoU."""

from __future__ import annotations

import numpy as np

from inpaint3d_core.masks import morphology


def _square(size=21, lo=8, hi=13):
    mask = np.zeros((size, size), np.uint8)
    mask[lo:hi, lo:hi] = 1
    return mask


def test_dilate_and_erode_move_the_outline_by_the_radius():
    mask = _square()
    grown = morphology.dilate(mask, 2)
    assert grown[10, 6] == 1 and grown[10, 5] == 0  # 2 px left of column 8
    assert morphology.erode(grown, 2)[8:13, 8:13].all()
    assert np.array_equal(morphology.dilate(mask, 0), mask)


def test_close_bridges_gaps_without_growing_and_keeps_border_shapes():
    mask = np.zeros((20, 30), np.uint8)
    mask[5:15, 0:10] = 1
    mask[5:15, 12:22] = 1  # 2 px gap
    closed = morphology.close(mask, 2)
    assert closed[10, 10:12].all()
    assert closed[:, 0].sum() == 10  # the shape touching the left border is intact
    assert closed[4].sum() == 0 and closed[:, 23:].sum() == 0


def test_fill_holes_fills_enclosed_background_only():
    ring = _square(lo=4, hi=17) - _square(lo=8, hi=13)
    assert morphology.fill_holes(ring)[10, 10] == 1
    open_shape = ring.copy()
    open_shape[10, 13:17] = 0
    open_shape[9:12, 13:] = 0  # a channel to the border: not a hole
    assert morphology.fill_holes(open_shape)[10, 10] == 0


def test_iou_and_area():
    a, b = np.zeros((4, 4)), np.zeros((4, 4))
    a[:2], b[1:3] = 1, 1
    assert morphology.iou(a, b) == 4 / 12
    assert morphology.iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0
    assert morphology.area_fraction(a) == 0.5

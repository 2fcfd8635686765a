"""Geometric masks: sphere and box ray tests against analytic projections; polygons and strokes."""

from __future__ import annotations

import numpy as np

from inpaint3d_core.cameras import Cameras, intrinsics, look_at
from inpaint3d_core.masks import geometric, morphology


def _cameras(eye, target=(0.0, 0.0, 0.0), w=64, h=48, f=50.0):
    c2w = look_at(np.array(eye, float), np.array(target, float))
    return Cameras(intrinsics(f, w, h)[None], c2w[None], np.array([w]), np.array([h]))


def _pixel_grid(w, h):
    xs, ys = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    return np.stack([xs, ys, np.ones_like(xs)], -1)


def test_sphere_on_the_optical_axis_is_the_analytic_disc():
    cams = _cameras(eye=(4.0, 0.0, 0.0))
    distance, radius, f = 4.0, 0.5, 50.0
    mask = geometric.sphere_mask(cams, 0, (0, 0, 0), radius)
    # The silhouette of a sphere on the axis is a disc of radius f * r / sqrt(d^2 - r^2).
    r_px = f * radius / np.sqrt(distance**2 - radius**2)
    grid = _pixel_grid(64, 48)
    disc = np.hypot(grid[..., 0] - 32, grid[..., 1] - 24) <= r_px
    assert np.array_equal(mask.astype(bool), disc)


def test_off_axis_sphere_matches_its_image_conic():
    cams = _cameras(eye=(3.0, 1.0, 0.8), target=(0.0, 0.3, 0.2))
    center, radius = np.array([0.3, -0.2, 0.1]), 0.4
    mask = geometric.sphere_mask(cams, 0, center, radius)
    # Outline conic of a sphere with centre c (camera frame): x^T K^-T (c c^T - (|c|^2 - r^2) I) K^-1 x >= 0.
    w2c = np.linalg.inv(cams.c2w[0])
    c = w2c[:3, :3] @ center + w2c[:3, 3]
    k_inv = np.linalg.inv(cams.K[0])
    conic = k_inv.T @ (np.outer(c, c) - (c @ c - radius**2) * np.eye(3)) @ k_inv
    grid = _pixel_grid(64, 48)
    inside = np.einsum("hwi,ij,hwj->hw", grid, conic, grid) >= 0
    assert mask.sum() > 50
    assert np.array_equal(mask.astype(bool), inside)


def test_sphere_behind_the_camera_is_empty_and_around_it_is_full():
    cams = _cameras(eye=(4.0, 0.0, 0.0))
    assert geometric.sphere_mask(cams, 0, (8.0, 0.0, 0.0), 0.5).sum() == 0
    assert geometric.sphere_mask(cams, 0, (4.0, 0.0, 0.0), 1.0).all()


def test_box_matches_its_projected_corners_for_a_face_on_view():
    cams = _cameras(eye=(4.0, 0.0, 0.0))
    mask = geometric.box_mask(cams, 0, (0, 0, 0), (0.2, 1.0, 0.6))
    # The nearest face (x = 0.1) spans y in [-0.5, 0.5] (image x) and z in [-0.3, 0.3] (image y).
    half_w, half_h = 50 * 0.5 / 3.9, 50 * 0.3 / 3.9
    grid = _pixel_grid(64, 48)
    expect = (np.abs(grid[..., 0] - 32) <= half_w) & (np.abs(grid[..., 1] - 24) <= half_h)
    assert morphology.iou(mask, expect) > 0.95
    assert geometric.box_mask(cams, 0, (4.0, 0.0, 0.0), (1, 1, 1)).all()


def test_polygon_and_scribble():
    square = geometric.polygon_mask(20, 10, [[(2.5, 2.5), (7.5, 2.5), (7.5, 6.5), (2.5, 6.5)]])
    assert square.sum() == 6 * 5 and square[2, 2] == 1 and square[7, 8] == 0
    stroke = geometric.scribble_mask(20, 10, [[(2.5, 5.5), (17.5, 5.5)]], thickness=3)
    assert stroke[4:7, 2:18].all() and stroke[0].sum() == 0

"""The hole depth fill widens its window when the warm-up left no opaque ring around the hole."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from inpaint3d_core.joint.trainer import JointTrainer


def _trainer_rendering(depth: np.ndarray, acc: np.ndarray):
    """A stand-in exposing only the window renderer `_filled_hole_depth` needs."""

    def render_window(view, x0, x1, y0, y1):
        return depth[y0:y1, x0:x1], acc[y0:y1, x0:x1]

    return SimpleNamespace(_render_depth_window=render_window)


def _hole() -> np.ndarray:
    hole = np.zeros((60, 60), dtype=bool)
    hole[25:35, 25:35] = True
    return hole


def test_window_widens_to_reach_opaque_depth():
    depth = np.full((60, 60), 2.0, dtype=np.float32)
    acc = np.zeros((60, 60), dtype=np.float32)
    acc[:5, :] = 1.0  # only far from the hole is the warm-up opaque
    fake = _trainer_rendering(depth, acc)
    filled = JointTrainer._filled_hole_depth(fake, 0, _hole())
    np.testing.assert_allclose(filled[_hole()], 2.0, rtol=1e-5)


def test_translucent_depth_is_used_only_as_last_resort():
    depth = np.full((60, 60), 3.0, dtype=np.float32)
    acc = np.full((60, 60), 0.2, dtype=np.float32)
    filled = JointTrainer._filled_hole_depth(_trainer_rendering(depth, acc), 0, _hole())
    np.testing.assert_allclose(filled[_hole()], 3.0, rtol=1e-5)


def test_empty_warmup_render_is_a_clear_error():
    zeros = np.zeros((60, 60), dtype=np.float32)
    with pytest.raises(RuntimeError, match="renders nothing in view 0"):
        JointTrainer._filled_hole_depth(_trainer_rendering(zeros, zeros), 0, _hole())


def test_hole_pixels_with_known_depth_keep_it_and_only_the_rest_is_filled():
    depth = np.tile(np.linspace(1.0, 4.0, 60, dtype=np.float32), (60, 1))
    hole = _hole()
    known = np.zeros_like(depth)
    left = hole.copy()
    left[:, int(np.nonzero(hole)[1].mean()) :] = False
    known[left] = 9.0  # what other views observed in the left half of the hole
    filled = JointTrainer._filled_hole_depth(_trainer_rendering(depth, np.ones_like(depth)), 0, hole, known)
    np.testing.assert_allclose(filled[left], 9.0)
    right = hole & ~left
    assert np.all(filled[right] > 0) and filled[right].max() > depth[right].max()  # pulled toward the known 9.0

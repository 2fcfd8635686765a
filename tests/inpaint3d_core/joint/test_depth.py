import numpy as np
import pytest
import torch

from inpaint3d_core.joint.depth import depth_loss, fill_hole_depth, freespace_loss, opacity_loss
from inpaint3d_core.nerf.renderer import RenderOutput
from inpaint3d_core.nerf.samples import RaySamples


def test_a_plane_behind_the_hole_is_continued_exactly():
    ys, xs = np.mgrid[0:40, 0:50]
    depth = 1.0 / (0.3 + 0.004 * xs + 0.006 * ys)  # a tilted plane: disparity affine in pixels
    hole = np.zeros(depth.shape, dtype=bool)
    hole[10:30, 12:40] = True
    observed = depth.copy()
    observed[hole] = 0.2  # e.g. the removed object's depth, which must not leak in
    filled = fill_hole_depth(observed, hole)
    np.testing.assert_allclose(filled, depth, rtol=1e-4)


def test_untrusted_ring_pixels_are_solved_for_and_isolated_holes_get_the_median():
    depth = np.full((20, 20), 2.0)
    hole = np.zeros_like(depth, dtype=bool)
    hole[5:10, 5:10] = True
    valid = np.ones_like(hole)
    valid[4, 5:10] = False  # low-opacity ring pixels: not boundary values
    depth[4, 5:10] = 50.0
    filled = fill_hole_depth(depth, hole, valid=valid)
    np.testing.assert_allclose(filled[hole], 2.0, rtol=1e-5)
    with pytest.raises(ValueError, match="no valid depth"):
        fill_hole_depth(depth, np.ones_like(hole))


def _output(t_edges, weights):
    t = torch.tensor(t_edges, dtype=torch.float32)
    w = torch.tensor(weights, dtype=torch.float32)
    samples = RaySamples(t[:, :-1], t[:, 1:])
    acc = w.sum(-1)
    return RenderOutput(rgb=torch.zeros(len(w), 3), acc=acc, distance=torch.ones(len(w)), weights=w, samples=samples)


def test_freespace_counts_only_opacity_in_front_of_the_target():
    out = _output([[0.0, 0.5, 1.0, 1.5, 2.0]], [[0.1, 0.2, 0.3, 0.4]])
    target = torch.tensor([1.6])
    # margin 0.1: opacity closer than 1.44 -> midpoints 0.25, 0.75, 1.25
    assert float(freespace_loss(out, target, margin=0.1)) == pytest.approx(0.6)
    assert float(opacity_loss(out)) == pytest.approx(0.0)
    assert float(depth_loss(torch.tensor([1.0, 3.0]), torch.tensor([2.0, 2.0]))) == pytest.approx(0.5)

"""Propagation in front of a cluttered background (issue 16): boxes, panels and poles stand a
little behind the object, inside the reference mask's viewing cone, on a textured floor.

One exact reference mask, no SAM, quick size (96x72, 16 views), orbit arcs and forward-facing
paths. Before the free-space test the clutter hidden behind the object in the reference view
was taken for the object's unseen back (IoU down to 0.59 on box scenes).
"""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.masks import morphology
from inpaint3d_core.masks.propagate import ScenePoints, observed_matrix, propagate
from inpaint3d_core.scene import load_posed_views, load_sparse_points
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_store

SCENES = [
    ("arc", "sphere", 0),
    ("arc", "box", 0),
    ("arc", "box", 1),
    ("forward", "sphere", 1),
    ("forward", "box", 0),
    ("forward", "box", 2),
]


@pytest.mark.parametrize(("trajectory", "object_type", "seed"), SCENES)
def test_one_reference_mask_stays_on_the_object(tmp_path, trajectory, object_type, seed):
    config = SyntheticConfig.preset("quick", seed=seed, object_type=object_type, n_clutter=8, trajectory=trajectory)
    scene = generate_scene(config)
    store = SceneStore(tmp_path / "scene.zarr")
    write_store(scene, store, n_points=12000)
    views = load_posed_views(store)
    pts = load_sparse_points(store)
    observed = observed_matrix(pts.track_views, pts.track_offsets, len(views))
    points = ScenePoints(pts.xyz.astype(np.float64), views.cameras, observed)
    result = propagate(points, {0: views.gt_mask(0)}, image=views.image)
    ious = np.array([morphology.iou(result.masks[i], views.gt_mask(i)) for i in range(1, len(views))])
    assert ious.min() >= 0.85, ious.round(3)
    assert (ious >= 0.9).mean() >= 0.9, ious.round(3)

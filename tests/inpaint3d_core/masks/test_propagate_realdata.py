"""Propagation on a real capture: maryrose_tankard (LLFF poses, shipped masks, no sparse points).

Points are triangulated with the known poses by the same function the poses stage uses for
imported poses (`inpaint3d_core.sfm.triangulate_known`), on 288 px copies to stay fast. One
reference view's shipped mask is propagated (projections snapped to the images, as the masks
stage does); the other views' shipped masks are only scored.
"""

from __future__ import annotations

import cv2
import imageio.v3 as iio
import numpy as np
import pytest

from inpaint3d_core.cameras import Cameras, llff_to_opencv
from inpaint3d_core.masks import morphology
from inpaint3d_core.masks.imported import import_masks
from inpaint3d_core.masks.propagate import ScenePoints, observed_matrix, propagate
from inpaint3d_core.sfm import triangulate_known

SIZE = 288  # images_4 are 864 px squares


def _llff_cameras(poses_bounds: np.ndarray, size: int, full_size: int) -> Cameras:
    n = len(poses_bounds)
    mats = poses_bounds[:, :15].reshape(n, 3, 5)
    c2w = np.tile(np.eye(4), (n, 1, 1))
    c2w[:, :3, :4] = mats[:, :, :4]
    focal = mats[:, 2, 4] * size / full_size
    K = np.zeros((n, 3, 3))
    K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = focal, focal, size / 2, size / 2, 1
    return Cameras(K, llff_to_opencv(c2w), np.full(n, size), np.full(n, size))


@pytest.mark.realdata
def test_one_reference_mask_reaches_the_other_views(shared_data, tmp_path):
    root = shared_data / "maryrose_tankard"
    paths = sorted((root / "images_4").iterdir())
    poses_bounds = np.load(root / "poses_bounds.npy")
    cameras = _llff_cameras(poses_bounds, SIZE, full_size=int(poses_bounds[0, 4]))
    images = [cv2.resize(iio.imread(p), (SIZE, SIZE), interpolation=cv2.INTER_AREA) for p in paths]
    cloud = triangulate_known(images, cameras.K, cameras.c2w, tmp_path, "sequential", max_features=1000)
    shipped = import_masks(root / "masks_4", [p.name for p in paths], [(SIZE, SIZE)] * len(paths)).masks
    points = ScenePoints(cloud.xyz, cameras, observed_matrix(cloud.track_views, cloud.track_offsets, len(paths)))
    result = propagate(points, {0: shipped[0]}, image=lambda view: images[view])
    ious = np.array([morphology.iou(m, s) for m, s in zip(result.masks, shipped, strict=True)])
    assert (ious[1:] >= 0.8).mean() >= 0.9, ious.round(2)
    assert np.median(ious[1:]) >= 0.9, ious.round(2)

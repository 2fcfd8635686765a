"""pycolmap wrapper: matcher choice, triangulation with known cameras, and the no-model error.

(Pose estimation accuracy on a synthetic scene is tested through the poses stage.)
"""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.sfm import SfmOptions, choose_matcher, estimate_poses, triangulate_known
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene


def test_matcher_choice():
    assert choose_matcher(30, "auto", 60) == "exhaustive"
    assert choose_matcher(200, "auto", 60) == "sequential"
    assert choose_matcher(30, "sequential", 60) == "sequential"


def test_triangulated_points_lie_on_the_scene_surfaces(tmp_path):
    scene = generate_scene(SyntheticConfig(width=160, height=120, n_views=6, arc_degrees=50, supersample=1, seed=2))
    cams = scene.cameras
    cloud = triangulate_known(list(scene.images), cams.K, cams.c2w, tmp_path, "exhaustive")
    assert len(cloud) > 50
    rel_errors = []
    for p in range(len(cloud)):
        for v in cloud.tracks()[p]:
            uv, z = cams.project(cloud.xyz[p : p + 1], int(v))
            col, row = np.clip(np.floor(uv[0]).astype(int), 0, [159, 119])
            rel_errors.append(abs(z[0] - scene.depth[v, row, col]) / scene.depth[v, row, col])
    assert np.median(rel_errors) < 0.01
    assert cloud.track_offsets[-1] == len(cloud.track_views) and cloud.track_views.max() < 6


def test_unmatchable_views_are_an_input_error_with_advice(tmp_path):
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(4)]
    with pytest.raises(InputError, match="more overlap"):
        estimate_poses(noise, tmp_path, SfmOptions())

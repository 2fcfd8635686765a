"""Surface points from rendered depth land on the surface; PLY files re-read exactly."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.errors import InputError
from inpaint3d_core.pointcloud import read_ply, unproject_depth, voxel_merge, write_ply


def test_unprojected_plane_points_lie_on_the_plane():
    K = intrinsics(20.0, 16, 12)
    c2w = look_at(np.array([0.0, 0.0, 2.0]), np.zeros(3), up=np.array([0.0, 1.0, 0.0]))
    depth = np.full((12, 16), 2.0)  # camera looks straight down at z=0 from height 2
    rgb = np.full((12, 16, 3), 0.5)
    acc = np.ones((12, 16))
    acc[0] = 0.1
    xyz, colours = unproject_depth(rgb, depth, K, c2w, acc=acc, stride=1)
    assert len(xyz) == 11 * 16
    np.testing.assert_allclose(xyz[:, 2], 0.0, atol=1e-12)
    assert (colours == 128).all()
    np.testing.assert_allclose(xyz.mean(axis=0)[:2], [0.0, -2.0 / 20.0 * 0.5], atol=1e-9)  # row 0 dropped


def test_voxel_merge_averages_points_in_one_cell():
    xyz = np.array([[0.01, 0.01, 0.01], [0.03, 0.03, 0.03], [0.5, 0.5, 0.5]])
    rgb = np.array([[0, 0, 0], [100, 100, 100], [255, 0, 0]], np.uint8)
    merged_xyz, merged_rgb = voxel_merge(xyz, rgb, voxel=0.1)
    assert len(merged_xyz) == 2
    row = np.argmin(merged_xyz[:, 0])
    np.testing.assert_allclose(merged_xyz[row], [0.02, 0.02, 0.02])
    assert merged_rgb[row].tolist() == [50, 50, 50]


def test_ply_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    xyz = rng.normal(size=(50, 3)).astype(np.float32)
    rgb = rng.integers(0, 256, (50, 3), dtype=np.uint8)
    path = write_ply(tmp_path / "cloud.ply", xyz, rgb)
    assert path.read_bytes().startswith(b"ply\nformat binary_little_endian 1.0")
    back_xyz, back_rgb = read_ply(path)
    np.testing.assert_array_equal(back_xyz, xyz)
    np.testing.assert_array_equal(back_rgb, rgb)
    with pytest.raises(InputError, match="no surface points"):
        write_ply(tmp_path / "empty.ply", np.zeros((0, 3)), np.zeros((0, 3), np.uint8))

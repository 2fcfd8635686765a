"""LLFF poses_bounds.npy: axis convention, full-resolution hwf, lossless round trip."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.llff import LLFFPoses, downscaled_folders, read_poses_bounds, write_poses_bounds


def _poses() -> LLFFPoses:
    c2w = np.stack([look_at(np.array([x, -4.0, 0.5]), np.zeros(3)) for x in (-1.0, 0.0, 1.0)])
    return LLFFPoses(
        c2w=c2w,
        K=np.stack([intrinsics(500.0, 400, 300)] * 3),
        width=np.full(3, 400),
        height=np.full(3, 300),
        bounds=np.array([[1.0, 9.0], [1.5, 8.0], [2.0, 7.0]]),
    )


def test_round_trip_is_lossless(tmp_path):
    poses = _poses()
    write_poses_bounds(tmp_path / "poses_bounds.npy", poses)
    back = read_poses_bounds(tmp_path / "poses_bounds.npy")
    for field in ("c2w", "K", "width", "height", "bounds"):
        assert np.allclose(getattr(back, field), getattr(poses, field), atol=1e-12), field


def test_llff_axes_are_down_right_back(tmp_path):
    poses = _poses()
    write_poses_bounds(tmp_path / "p.npy", poses)
    row = np.load(tmp_path / "p.npy")[0, :15].reshape(3, 5)
    assert np.allclose(row[:, 0], poses.c2w[0, :3, 1])  # LLFF "down" = OpenCV y
    assert np.allclose(row[:, 1], poses.c2w[0, :3, 0])  # "right" = OpenCV x
    assert np.allclose(row[:, 2], -poses.c2w[0, :3, 2])  # "back" = -forward
    assert np.allclose(row[:, 4], [300, 400, 500])  # h, w, f


def test_bad_shape_is_an_input_error(tmp_path):
    np.save(tmp_path / "poses_bounds.npy", np.zeros((3, 15)))
    with pytest.raises(InputError, match=r"\(N, 17\)"):
        read_poses_bounds(tmp_path / "poses_bounds.npy")


def test_downscaled_folders(tmp_path):
    for name in ("images", "images_4", "images_8", "images_x"):
        (tmp_path / name).mkdir()
    assert sorted(downscaled_folders(tmp_path)) == [1, 4, 8]

"""COLMAP models: binary and text round trips, camera models and distortion mapped to OpenCV."""

from __future__ import annotations

import numpy as np
import pycolmap
import pytest

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.colmap_model import (
    CameraSet,
    SparseCloud,
    colmap_to_opencv,
    find_model_folder,
    read_model,
    write_model,
)


def _cameras() -> CameraSet:
    c2w = np.stack([look_at(np.array([3 * np.cos(a), 3 * np.sin(a), 1.0]), np.zeros(3)) for a in (0.0, 0.5, 1.0)])
    dist = np.zeros((3, 8))
    dist[1, :4] = [0.05, -0.01, 0.001, -0.002]  # OPENCV
    dist[2, [0, 4, 5]] = [0.02, 0.003, 0.001]  # needs FULL_OPENCV
    return CameraSet(
        names=["a.png", "b.png", "c.png"],
        K=np.stack([intrinsics(60.0, 64, 48), intrinsics(70.0, 48, 64, focal_y=71.0), intrinsics(55.0, 64, 48)]),
        distortion=dist,
        c2w=c2w,
        width=np.array([64, 48, 64]),
        height=np.array([48, 64, 48]),
    )


def _cloud() -> SparseCloud:
    xyz = np.array([[0.1, 0.2, 0.3], [-0.2, 0.1, 0.0], [0.0, -0.3, 0.2]])
    rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.uint8)
    return SparseCloud.from_tracks(xyz, rgb, [[0, 1], [1, 2], [0, 1, 2]])


@pytest.mark.parametrize("binary", [True, False])
def test_model_round_trip_is_lossless(tmp_path, binary):
    cams, cloud = _cameras(), _cloud()
    write_model(tmp_path / "sparse" / "0", cams, cloud, binary=binary)
    assert find_model_folder(tmp_path) == tmp_path / "sparse" / "0"
    back, back_cloud = read_model(tmp_path / "sparse" / "0")
    assert back.names == cams.names
    assert np.allclose(back.K, cams.K, atol=1e-9)
    assert np.allclose(back.distortion, cams.distortion, atol=1e-12)
    assert np.allclose(back.c2w, cams.c2w, atol=1e-9)
    assert np.array_equal(back.width, cams.width) and np.array_equal(back.height, cams.height)
    assert np.allclose(back_cloud.xyz, cloud.xyz, atol=1e-9)
    assert np.array_equal(back_cloud.rgb, cloud.rgb)
    assert [t.tolist() for t in back_cloud.tracks()] == [t.tolist() for t in cloud.tracks()]


def test_written_observations_are_projections(tmp_path):
    cams, cloud = _cameras(), _cloud()
    write_model(tmp_path, cams, cloud)
    rec = pycolmap.Reconstruction(tmp_path)
    assert rec.compute_mean_reprojection_error() < 1e-6


def test_simple_radial_maps_to_k1():
    camera = pycolmap.Camera(model="SIMPLE_RADIAL", width=100, height=80, params=[90.0, 50.0, 40.0, 0.07])
    K, dist = colmap_to_opencv(camera)
    assert np.allclose(K, intrinsics(90.0, 100, 80))
    assert np.allclose(dist, [0.07, 0, 0, 0, 0, 0, 0, 0])


def test_fisheye_models_are_refused():
    camera = pycolmap.Camera(model="OPENCV_FISHEYE", width=100, height=80, params=[90, 90, 50, 40, 0.1, 0, 0, 0])
    with pytest.raises(InputError, match="OPENCV_FISHEYE"):
        colmap_to_opencv(camera)


def test_incomplete_model_folder_is_an_input_error(tmp_path):
    (tmp_path / "cameras.bin").write_bytes(b"")
    assert find_model_folder(tmp_path) is None
    with pytest.raises(InputError, match="not a COLMAP model"):
        read_model(tmp_path)

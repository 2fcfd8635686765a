"""The nerfstudio export round-trips: every path resolves, sizes and intrinsics match the files,
poses read back (OpenGL -> OpenCV, capture coordinates) equal the store's, masks follow
nerfstudio's convention (0 = ignore)."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np

from inpaint3d_core.cameras import opengl_to_opencv
from inpaint3d_core.io.nerfstudio_export import CAMERA_MODEL, write_nerfstudio_dataset
from inpaint3d_core.scene import load_masks, load_posed_views

# nerfstudio's documented transforms.json keys (docs.nerf.studio/quickstart/data_conventions.html)
FRAME_KEYS = {"file_path", "transform_matrix", "fl_x", "fl_y", "cx", "cy", "w", "h", "k1", "k2", "p1", "p2"}
NERFSTUDIO_CAMERA_MODELS = {"OPENCV", "OPENCV_FISHEYE", "EQUIRECTANGULAR", "PINHOLE", "SIMPLE_PINHOLE"}


def _check_dataset(root, views, indices, masks=None):
    meta = json.loads((root / "transforms.json").read_text())
    assert meta["camera_model"] in NERFSTUDIO_CAMERA_MODELS and meta["camera_model"] == CAMERA_MODEL
    frames = meta["frames"]
    assert len(frames) == len(indices)
    c2w = views.normalization.invert_c2w(views.cameras.c2w)
    for i, frame in zip(indices, frames, strict=True):
        assert FRAME_KEYS <= set(frame)
        image = iio.imread(root / frame["file_path"])
        assert image.shape[:2] == (frame["h"], frame["w"])
        assert np.array_equal(image, views.image(i))  # the stored (oriented, undistorted) image, losslessly
        K = views.cameras.K[i]
        assert (frame["fl_x"], frame["fl_y"], frame["cx"], frame["cy"]) == (K[0, 0], K[1, 1], K[0, 2], K[1, 2])
        assert np.allclose(opengl_to_opencv(np.asarray(frame["transform_matrix"])), c2w[i])
        if masks is not None:
            mask = iio.imread(root / frame["mask_path"])
            assert mask.shape == image.shape[:2]
            assert np.array_equal(mask == 0, masks[i] > 0) and set(np.unique(mask)) <= {0, 255}
        else:
            assert "mask_path" not in frame
    return frames


def test_write_round_trips_paths_sizes_intrinsics_and_poses(synthetic_store, tmp_path):
    views = load_posed_views(synthetic_store)
    masks = load_masks(synthetic_store, dilated=True)
    indices = views.indices(role="train")
    write_nerfstudio_dataset(tmp_path / "ns", views, indices, views.image, masks)
    _check_dataset(tmp_path / "ns", views, indices, masks)


def test_a_wrong_size_image_is_refused(synthetic_store, tmp_path):
    views = load_posed_views(synthetic_store)
    try:
        write_nerfstudio_dataset(tmp_path / "ns", views, [0], lambda i: np.zeros((3, 3, 3), np.uint8))
    except ValueError as exc:
        assert views.views[0].name in str(exc)
    else:
        raise AssertionError("a 3x3 image for a larger camera was written")

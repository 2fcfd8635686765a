"""Capture layout detection: which folder holds the views and which pose files come with them."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.io.capture import detect_capture
from inpaint3d_core.io.images import write_image

PIXELS = np.zeros((8, 8, 3), dtype=np.uint8)


def _images(folder, n=2):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        write_image(folder / f"{i:03d}.png", PIXELS)


def test_plain_photo_folder(tmp_path):
    _images(tmp_path)
    capture = detect_capture(tmp_path)
    assert capture.layout == "images" and capture.image_dir == tmp_path and capture.pose_sources == {}


def test_synthetic_layout_with_transforms(tmp_path):
    _images(tmp_path / "images")
    _images(tmp_path / "gt_images")
    _images(tmp_path / "masks")
    (tmp_path / "transforms.json").write_text("{}")
    capture = detect_capture(tmp_path)
    assert capture.layout == "synthetic"
    assert capture.gt_image_dir == tmp_path / "gt_images" and capture.gt_mask_dir == tmp_path / "masks"
    assert set(capture.pose_sources) == {"transforms"}


def test_llff_picks_the_smallest_resolution_unless_told(tmp_path):
    _images(tmp_path / "images_4")
    _images(tmp_path / "images_8")
    _images(tmp_path / "images_8" / "test_label")
    np.save(tmp_path / "poses_bounds.npy", np.zeros((2, 17)))
    capture = detect_capture(tmp_path)
    assert capture.layout == "llff" and capture.image_dir == tmp_path / "images_8"
    assert capture.test_label_dir == tmp_path / "images_8" / "test_label" and capture.label_dir is None
    assert detect_capture(tmp_path, llff_factor=4).image_dir == tmp_path / "images_4"
    with pytest.raises(InputError, match="images_2"):
        detect_capture(tmp_path, llff_factor=2)


def test_colmap_model_and_poses_bounds_beside_images(tmp_path):
    _images(tmp_path / "images")
    (tmp_path / "sparse" / "0").mkdir(parents=True)
    for stem in ("cameras", "images", "points3D"):
        (tmp_path / "sparse" / "0" / f"{stem}.bin").write_bytes(b"")
    np.save(tmp_path / "poses_bounds.npy", np.zeros((2, 17)))
    capture = detect_capture(tmp_path)
    assert capture.layout == "images" and set(capture.pose_sources) == {"colmap", "llff"}


def test_video_file_and_folder(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    assert detect_capture(video).video == video
    assert detect_capture(tmp_path).layout == "video"


def test_missing_or_empty_captures_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        detect_capture(tmp_path / "nope")
    with pytest.raises(InputError, match="no photos"):
        detect_capture(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="must be a video"):
        detect_capture(tmp_path / "notes.txt")

"""Video frames: the sharpest frame of each window is kept, a paused camera adds no duplicates."""

from __future__ import annotations

import cv2
import imageio.v3 as iio
import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.io.video import select_frames, sharpness


def _texture(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """40 frames at 10 fps: 4 windows of 10; window k shows texture k, blurred except frame 10k+3;
    windows 2 and 3 show the same texture (a paused camera)."""
    frames = []
    for seed in [0, 1, 2, 2]:
        sharp = _texture(seed)
        for j in range(10):
            frames.append(sharp if j == 3 else cv2.GaussianBlur(sharp, (9, 9), 3))
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    iio.imwrite(path, np.stack(frames), fps=10, codec="libx264", quality=10)
    return path


def test_sharpest_frame_per_window_and_duplicates_skipped(video):
    kept = select_frames(video, n_frames=4, duplicate_threshold=0.02)
    assert [f.index for f in kept] == [3, 13, 23]  # window 3 repeats window 2's texture
    assert all(f.pixels.shape == (48, 64, 3) for f in kept)


def test_without_duplicate_check_every_window_contributes(video):
    assert len(select_frames(video, n_frames=4, duplicate_threshold=0.0)) == 4


def test_sharpness_prefers_crisp_edges():
    sharp = _texture(5)
    assert sharpness(sharp) > 5 * sharpness(cv2.GaussianBlur(sharp, (9, 9), 3))


def test_unreadable_video_is_an_input_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="broken.mp4"):
        select_frames(bad, n_frames=5)

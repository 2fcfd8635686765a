"""Depth colour maps, overlays, side-by-sides; MP4 and PNG files re-read."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.media import (
    MASK_COLOUR,
    colorize_depth,
    decode_mp4,
    encode_mp4,
    encode_png,
    overlay_mask,
    side_by_side,
    write_png_frames,
)


def test_colorize_depth_near_and_far_ends_and_transparent_black():
    depth = np.tile(np.linspace(1.0, 4.0, 16), (8, 1))
    acc = np.ones_like(depth)
    acc[:, 0] = 0.0
    out = colorize_depth(depth, acc, limits=(1.0, 4.0), cmap="gray")
    assert out.dtype == np.uint8 and out.shape == (8, 16, 3)
    assert (out[:, 0] == 0).all()  # transparent
    assert out[0, 1, 0] > out[0, 8, 0] > out[0, 15, 0] == 0  # gray: inverse depth, far end black
    far_only = colorize_depth(np.full((4, 4), 10.0), limits=(1.0, 4.0), cmap="gray")
    assert (far_only == 0).all()  # beyond the far limit: clamped to the far colour


def test_overlay_and_side_by_side():
    image = np.zeros((20, 30, 3), np.uint8)
    mask = np.zeros((20, 30), np.uint8)
    mask[5:15, 5:15] = 1
    over = overlay_mask(image, mask)
    assert (over[0, 0] == 0).all() and (over[5, 5] == MASK_COLOUR).all() and over[10, 10].any()
    both = side_by_side([image, over], labels=["a", "b"], gap=2)
    assert both.shape == (20, 62, 3) and (both[:, 30:32] == 255).all()
    with pytest.raises(InputError, match="same height"):
        side_by_side([image, image[:10]])


def test_mp4_round_trip_keeps_frame_count_size_and_content():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (4, 6, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)  # 32x48 blocks
    frames = [np.roll(base, 8 * i, axis=1) for i in range(6)]
    payload = encode_mp4(frames, fps=6)
    assert payload[4:8] == b"ftyp"
    decoded = decode_mp4(payload)
    assert len(decoded) == 6 and decoded[0].shape == (32, 48, 3)
    assert np.abs(decoded[3].astype(int) - frames[3].astype(int)).mean() < 12
    odd = encode_mp4([np.zeros((33, 47, 3), np.uint8)] * 2)  # odd sides are padded for yuv420p
    assert decode_mp4(odd)[0].shape == (34, 48, 3)


def test_png_bytes_and_frames(tmp_path):
    frame = np.random.default_rng(1).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(iio.imread(encode_png(frame)), frame)
    paths = write_png_frames([frame, frame[::-1]], tmp_path / "frames", prefix="rgb")
    assert [p.name for p in paths] == ["rgb_00000.png", "rgb_00001.png"]
    np.testing.assert_array_equal(iio.imread(paths[1]), frame[::-1])

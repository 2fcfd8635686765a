"""Photo decoding: EXIF orientation, downscaling, masks, and the reasons broken files are skipped."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint3d_core.io.images import UnreadableImageError, decode_image, fit_max_side, read_mask


def _photo(width: int = 40, height: int = 30) -> Image.Image:
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2] = (255, 0, 0)  # left half red: shows where the image's left went
    return Image.fromarray(pixels)


def test_exif_orientation_turns_the_photo_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    _photo().save(tmp_path / "rot.jpg", exif=exif, quality=95)
    upright = decode_image(tmp_path / "rot.jpg")
    assert upright.orientation == 6
    assert upright.pixels.shape == (40, 30, 3)
    assert upright.pixels[2, 15, 0] > 200 and upright.pixels[-3, 15, 0] < 60  # former left side is on top
    raw = decode_image(tmp_path / "rot.jpg", apply_exif=False)
    assert raw.pixels.shape == (30, 40, 3)


def test_heic_photos_decode(tmp_path):
    import pillow_heif

    pixels = np.asarray(_photo(32, 24))
    pillow_heif.from_bytes(mode="RGB", size=(32, 24), data=pixels.tobytes()).save(tmp_path / "p.heic", quality=-1)
    decoded = decode_image(tmp_path / "p.heic")
    assert decoded.pixels.shape == (24, 32, 3)
    assert np.abs(decoded.pixels.astype(int) - pixels).mean() < 8


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"not an image at all", "not a decodable image")],
)
def test_broken_files_raise_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(UnreadableImageError, match=reason):
        decode_image(path)


def test_truncated_jpeg_is_detected(tmp_path):
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "full.jpg", quality=95)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableImageError, match="truncated"):
        decode_image(tmp_path / "cut.jpg")


def test_fit_max_side_only_shrinks():
    assert fit_max_side(4000, 3000, 1000) == (1000, 750, 0.25)
    assert fit_max_side(300, 200, 1000) == (300, 200, 1.0)
    assert fit_max_side(300, 200, None) == (300, 200, 1.0)


def test_masks_binarise_jpeg_fringes_and_0_1_labels(tmp_path):
    grey = np.zeros((20, 20), dtype=np.uint8)
    grey[5:15, 5:15] = 255
    grey[4, 5:15] = 90  # compression fringe below threshold
    Image.fromarray(grey).save(tmp_path / "m.png")
    Image.fromarray((grey == 255).astype(np.uint8)).save(tmp_path / "m01.png")
    expected = (grey == 255).astype(np.uint8)
    assert np.array_equal(read_mask(tmp_path / "m.png", 20, 20), expected)
    assert np.array_equal(read_mask(tmp_path / "m01.png", 20, 20), expected)
    assert read_mask(tmp_path / "m.png", 10, 10).sum() == 25

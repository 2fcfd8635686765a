"""Imported masks: name matching, label/ folders, thresholds, size fixes and refusals."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.masks.imported import import_masks, read_mask_image

SOURCES = ["images/IMG_1.JPG", "images/IMG_2.JPG", "images/IMG_3.JPG"]
SIZES = [(32, 24)] * 3


def _mask(w=32, h=24, value=255):
    mask = np.zeros((h, w), np.uint8)
    mask[5:15, 8:20] = value
    return mask


def test_names_suffixes_and_missing_views(tmp_path):
    iio.imwrite(tmp_path / "IMG_1.png", _mask())
    iio.imwrite(tmp_path / "img_2_mask.jpg", _mask(), quality=95)
    result = import_masks(tmp_path, SOURCES, SIZES)
    assert set(result.matched) == {0, 1} and result.missing == [2]
    assert result.masks[0].sum() == 10 * 12 and result.masks[0].max() == 1
    assert abs(int(result.masks[1].sum()) - 120) <= 4  # JPEG ringing stays below the threshold
    assert result.masks[2].shape == (24, 32) and result.masks[2].sum() == 0


def test_llff_label_subfolder_and_zero_one_masks(tmp_path):
    (tmp_path / "label").mkdir()
    iio.imwrite(tmp_path / "label" / "IMG_3.png", _mask(value=1))
    result = import_masks(tmp_path, SOURCES, SIZES)
    assert list(result.matched) == [2] and result.masks[2].sum() == 120


def test_a_few_pixels_off_is_fixed_with_a_note(tmp_path):
    iio.imwrite(tmp_path / "IMG_1.png", _mask(w=34, h=23))
    result = import_masks(tmp_path, SOURCES, SIZES)
    assert result.masks[0].shape == (24, 32) and result.notes and "34x23" in result.notes[0]


def test_same_aspect_other_resolution_is_resized(tmp_path):
    iio.imwrite(tmp_path / "IMG_1.png", np.kron(_mask(), np.ones((4, 4), np.uint8)))
    result = import_masks(tmp_path, SOURCES, SIZES)
    assert result.masks[0].sum() == 120


def test_other_aspect_ratio_is_an_error(tmp_path):
    iio.imwrite(tmp_path / "IMG_1.png", np.zeros((64, 32), np.uint8))
    with pytest.raises(InputError, match="aspect ratio"):
        import_masks(tmp_path, SOURCES, SIZES)


def test_nothing_matching_is_an_error_that_shows_the_expected_name(tmp_path):
    iio.imwrite(tmp_path / "other.png", _mask())
    with pytest.raises(InputError, match="IMG_1"):
        import_masks(tmp_path, SOURCES, SIZES)
    with pytest.raises(InputError, match="does not exist"):
        import_masks(tmp_path / "nope", SOURCES, SIZES)


def test_colour_masks_use_any_channel(tmp_path):
    rgb = np.zeros((24, 32, 3), np.uint8)
    rgb[2:4, 2:6, 0] = 200
    iio.imwrite(tmp_path / "m.png", rgb)
    assert read_mask_image(tmp_path / "m.png").sum() == 8


@pytest.mark.realdata
def test_maryrose_masks_align_with_their_images(shared_data):
    """The shipped masks cover the tankard: bright background outside, darker object inside."""
    root = shared_data / "maryrose_tankard"
    images = sorted((root / "images_4").iterdir())
    picked = images[::17]
    result = import_masks(root / "masks_4", [p.name for p in picked], [(864, 864)] * len(picked))
    assert len(result.matched) == len(picked) and not result.notes
    for path, mask in zip(picked, result.masks, strict=True):
        grey = iio.imread(path).mean(axis=-1)
        assert 0.2 < mask.mean() < 0.8
        assert grey[mask == 0].mean() > grey[mask == 1].mean() + 40

"""Training crops avoid the region to generate; training holes mix random and own shapes."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.crop_sampler import CropSampler
from inpaint3d_core.priors.training_masks import HoleBank, own_mask_shapes


def _scene_with_bright_object() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Dark background everywhere, a white object exactly under the mask."""
    rng = np.random.default_rng(0)
    images, masks = [], []
    for v in range(3):
        image = rng.integers(0, 60, (48, 64, 3), dtype=np.uint8)
        mask = np.zeros((48, 64), np.uint8)
        mask[10 + v : 30 + v, 20:44] = 1
        image[mask == 1] = 255
        images.append(image)
        masks.append(mask)
    return images, masks


def test_crops_never_contain_masked_pixels():
    images, masks = _scene_with_bright_object()
    sampler = CropSampler(images, masks, resolution=8, scales=(1.0, 2.0))
    crops = sampler.sample(np.random.default_rng(1), 200)
    assert crops.shape == (200, 3, 8, 8)
    assert crops.min() >= -1.0
    assert crops.max() < (60 / 127.5 - 1.0) + 1e-6  # no white object pixel, even after resizing


def test_no_free_crop_is_an_input_error():
    image = np.zeros((20, 20, 3), np.uint8)
    mask = np.zeros((20, 20), np.uint8)
    mask[8:12, :] = 1
    with pytest.raises(InputError, match="no 16px crop"):
        CropSampler([image], [mask], resolution=16, scales=(1.0,))


def test_mismatched_mask_names_the_view():
    images, masks = _scene_with_bright_object()
    masks[1] = masks[1][:-1]
    with pytest.raises(InputError, match="view 1"):
        CropSampler(images, masks, resolution=8, scales=(1.0,))


def test_own_shapes_are_cropped_with_context_and_mixed_in():
    _, masks = _scene_with_bright_object()
    masks.append(np.zeros((48, 64), np.uint8))  # a view without hole contributes no shape
    shapes = own_mask_shapes(masks, resolution=16, context=2.0)
    assert len(shapes) == 3
    # hole side = half the crop side with context 2: about a quarter of the crop's area
    assert all(0.15 < s.mean() < 0.35 for s in shapes)

    rng = np.random.default_rng(0)
    own_set = {np.rot90(s, k).tobytes() for s in shapes for k in range(4)}
    own_set |= {np.rot90(s, k)[:, ::-1].tobytes() for s in shapes for k in range(4)}

    def drawn(own_fraction: float, count: int) -> list[np.ndarray]:
        holes = HoleBank(rng, 64, 16, shapes, own_fraction).sample(rng, count)
        assert holes.shape == (count, 1, 16, 16)
        return [h[0].numpy().astype(np.uint8) for h in holes]

    assert all(m.tobytes() in own_set for m in drawn(1.0, 20))
    random_only = drawn(0.0, 50)
    assert sum(m.tobytes() in own_set for m in random_only) < 5
    assert all(0 < m.mean() < 1 for m in random_only)
    assert len({m.tobytes() for m in random_only}) > 20  # drawn from the bank's variety, not one shape


def test_crops_are_cut_where_the_sampler_says_and_flipped_half_the_time():
    """The vectorised gather cuts the same windows a per-crop slice would (flips included), across
    views of different sizes (padded in the stack)."""
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 255, (20, 24, 3), dtype=np.uint8), rng.integers(0, 255, (16, 30, 3), dtype=np.uint8)]
    masks = [np.zeros(im.shape[:2], np.uint8) for im in images]
    sampler = CropSampler(images, masks, resolution=8, scales=(1.0,))
    crops = sampler.sample(np.random.default_rng(5), 64).numpy()
    windows = {
        np.ascontiguousarray(w).tobytes()
        for im in images
        for y in range(im.shape[0] - 7)
        for x in range(im.shape[1] - 7)
        for w in (im[y : y + 8, x : x + 8], im[y : y + 8, x : x + 8][:, ::-1])
    }
    as_uint8 = np.rint((crops.transpose(0, 2, 3, 1) + 1.0) * 127.5).astype(np.uint8)
    assert all(np.ascontiguousarray(c).tobytes() in windows for c in as_uint8)
    straight = {
        np.ascontiguousarray(im[y : y + 8, x : x + 8]).tobytes()
        for im in images
        for y in range(im.shape[0] - 7)
        for x in range(im.shape[1] - 7)
    }
    assert 10 < sum(c.tobytes() not in straight for c in as_uint8) < 54  # some flipped, some not

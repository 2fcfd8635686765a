"""Training crops avoid the region to generate; training holes mix random and own shapes."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.crop_sampler import CropSampler
from inpaint3d_core.priors.training_masks import own_mask_shapes, sample_training_masks


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
    only_own = sample_training_masks(rng, 20, 16, shapes, own_fraction=1.0)
    own_set = {np.rot90(s, k).tobytes() for s in shapes for k in range(4)}
    own_set |= {np.rot90(s, k)[:, ::-1].tobytes() for s in shapes for k in range(4)}
    assert all(m.tobytes() in own_set for m in only_own)
    random_only = sample_training_masks(rng, 50, 16, shapes, own_fraction=0.0)
    assert sum(m.tobytes() in own_set for m in random_only) < 5
    assert all(0 < m.mean() < 1 for m in random_only)

"""Per-view fills: only hole pixels change, the prior sees the hole at its resolution, seeds differ."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint3d_core.baselines import fill_views_classical, fill_views_with_prior
from inpaint3d_core.errors import InputError


class RecordingPrior:
    """Fills the hole with a grey level equal to seed/10 and remembers what it was given."""

    resolution = 32

    def __init__(self):
        self.calls = []

    def sds_loss(self, rendered, cond_image, mask, progress):  # protocol member, unused here
        raise AssertionError("the per-view fill must not call sds_loss")

    def inpaint(self, image, mask, seed=0):
        self.calls.append((image.clone(), mask.clone(), seed))
        return image * (1 - mask) + mask * (seed / 10.0)


def _scene(n=2, h=40, w=64):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]
    masks = [np.zeros((h, w), np.uint8) for _ in range(n)]
    masks[0][10:20, 30:44] = 1
    if n > 1:
        masks[1][0:6, 0:5] = 1  # touches the border: the crop must shift inside the image
    return images, masks


def test_prior_fill_changes_only_hole_pixels_and_uses_per_view_seeds():
    images, masks = _scene()
    prior = RecordingPrior()
    filled = fill_views_with_prior(prior, images, masks, seed=3)
    assert [c[2] for c in prior.calls] == [3, 4]
    for image, mask, out, seed in zip(images, masks, filled, (3, 4), strict=True):
        hole = mask > 0
        np.testing.assert_array_equal(out[~hole], image[~hole])
        # Away from the hole's rim (where resampling blends with the known border) the fill is the prior's.
        inner = cv2.erode(mask, np.ones((7, 7), np.uint8)) > 0
        assert inner.any() and np.all(np.abs(out[inner].astype(int) - round(seed / 10 * 255)) <= 1)
    for img_t, mask_t, _ in prior.calls:
        assert img_t.shape == (1, 3, 32, 32) and mask_t.shape == (1, 1, 32, 32)
        assert 0 < mask_t.mean() < 1  # the crop holds context around the hole


def test_prior_fill_skips_views_without_hole():
    images, masks = _scene(n=1)
    masks[0][:] = 0
    prior = RecordingPrior()
    filled = fill_views_with_prior(prior, images, masks)
    assert prior.calls == [] and np.array_equal(filled[0], images[0])


@pytest.mark.parametrize("method", ["telea", "ns"])
def test_classical_fill_continues_a_flat_colour(method):
    image = np.full((32, 32, 3), (200, 40, 90), np.uint8)
    damaged = image.copy()
    mask = np.zeros((32, 32), np.uint8)
    mask[10:20, 12:22] = 1
    damaged[mask > 0] = 0
    (out,) = fill_views_classical([damaged], [mask], method=method)
    assert np.abs(out.astype(int) - image.astype(int)).max() <= 2


def test_mismatched_inputs_are_named():
    images, masks = _scene()
    with pytest.raises(InputError, match="2 images but 1 masks"):
        fill_views_classical(images, masks[:1])
    with pytest.raises(InputError, match="view 1 mask"):
        fill_views_with_prior(RecordingPrior(), images, [masks[0], masks[1][:10]])
    with pytest.raises(InputError, match="method"):
        fill_views_classical(images, masks, method="bogus")


def test_prior_fill_uses_the_priors_crop_context():
    images, masks = _scene(n=1)
    prior = RecordingPrior()
    prior.crop_context = 1.2  # a tight framing: the hole fills most of the crop
    fill_views_with_prior(prior, images, masks)
    tight = prior.calls[-1][1].mean()
    fill_views_with_prior(prior, images, masks, context=3.0)
    assert tight > 2 * prior.calls[-1][1].mean()


def test_prior_fill_with_the_internal_prior():
    """The real prior class through the protocol (tiny preset, untrained UNet: samples are noise)."""
    from inpaint3d_core.priors.internal import InternalPrior, InternalPriorConfig, build_unet

    images, masks = _scene(n=2, h=48, w=64)
    config = InternalPriorConfig.preset("tiny")
    prior = InternalPrior(build_unet(config).eval(), config)
    filled = fill_views_with_prior(prior, images, masks, seed=1)
    for image, mask, out in zip(images, masks, filled, strict=True):
        assert out.shape == image.shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out[mask == 0], image[mask == 0])
        assert not np.array_equal(out[mask > 0], image[mask > 0])

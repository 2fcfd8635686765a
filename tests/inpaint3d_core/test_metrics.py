"""Metrics against hand-computed values; LPIPS only with local backbone weights."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch

from inpaint3d_core.errors import InputError
from inpaint3d_core.metrics import (
    _backbone_weights_file,
    load_lpips,
    mask_bbox,
    mean_scores,
    psnr,
    score_view,
    ssim,
)


def test_psnr_of_a_uniform_error_is_minus_ten_log_mse():
    target = np.full((16, 16, 3), 0.5)
    pred = target + 0.1  # MSE 0.01 -> 20 dB
    assert psnr(pred, target) == pytest.approx(20.0, abs=1e-5)


def test_masked_psnr_uses_only_mask_pixels_and_full_psnr_dilutes_the_error():
    target = np.zeros((20, 20, 3), np.uint8)
    pred = target.copy()
    mask = np.zeros((20, 20), np.uint8)
    mask[5:10, 5:15] = 1  # 50 of 400 pixels
    pred[mask > 0] = 51  # error 0.2 -> MSE 0.04 inside
    assert psnr(pred, target, mask) == pytest.approx(10 * math.log10(1 / 0.04), abs=1e-6)
    assert psnr(pred, target) == pytest.approx(10 * math.log10(1 / (0.04 * 50 / 400)), abs=1e-5)


def test_ssim_of_flat_images_follows_the_luminance_term():
    # Flat images have zero variance, so SSIM = (2 mx my + C1) / (mx^2 + my^2 + C1), C1 = 0.01^2.
    x, y, c1 = 0.5, 0.25, 0.01**2
    expected = (2 * x * y + c1) / (x * x + y * y + c1)
    assert ssim(np.full((16, 16, 3), x), np.full((16, 16, 3), y)) == pytest.approx(expected, abs=1e-6)
    image = np.random.default_rng(0).random((16, 16, 3))
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-6)


def test_mask_bbox_is_tight_when_large_and_grown_to_ssim_window_when_small():
    mask = np.zeros((40, 50), np.uint8)
    mask[3:30, 10:40] = 1
    box = mask_bbox(mask)
    assert (box.y0, box.y1, box.x0, box.x1) == (3, 30, 10, 40)
    mask[:] = 0
    mask[0:2, 48:50] = 1  # tiny, in the corner: grown to 11x11 inside the image
    box = mask_bbox(mask)
    assert (box.y0, box.y1, box.x0, box.x1) == (0, 11, 39, 50)
    assert mask_bbox(np.zeros((5, 5))) is None


def test_score_view_regions_and_mean():
    rng = np.random.default_rng(1)
    target = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    pred = target.copy()
    mask = np.zeros((24, 24), np.uint8)
    mask[6:18, 6:18] = 1
    pred[mask > 0] = 255 - pred[mask > 0]
    scores = score_view(pred, target, mask)
    assert set(scores) == {"full", "bbox", "masked"}
    assert scores["bbox"]["psnr"] == pytest.approx(scores["masked"]["psnr"])  # bbox == mask here
    assert scores["full"]["psnr"] > scores["bbox"]["psnr"]
    assert "bbox" not in score_view(pred, target, None)
    mean = mean_scores([{"full": {"psnr": 10.0}}, {"full": {"psnr": 30.0}, "bbox": {"psnr": 5.0}}])
    assert mean == {"full": {"psnr": 20.0}, "bbox": {"psnr": 5.0}}


def test_seen_and_unseen_parts_score_only_their_pixels():
    rng = np.random.default_rng(2)
    target = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    pred = target.copy()
    mask = np.zeros((40, 40), np.uint8)
    mask[8:32, 8:32] = 1
    unseen = np.zeros_like(mask)
    unseen[8:32, 20:32] = 1  # right half of the mask: generated, and here generated wrong
    pred[unseen > 0] = 255 - pred[unseen > 0]
    scores = score_view(pred, target, mask, unseen=unseen)
    assert math.isinf(scores["seen"]["psnr"]) and scores["unseen"]["psnr"] == pytest.approx(psnr(pred, target, unseen))
    assert scores["seen"]["psnr"] > scores["masked"]["psnr"] > scores["unseen"]["psnr"]
    assert scores["seen"]["ssim"] > scores["bbox"]["ssim"] > scores["unseen"]["ssim"]
    assert "seen" not in score_view(pred, target, mask, unseen=mask)  # all of the mask unseen
    assert "seen" not in score_view(pred, target, mask) and "unseen" not in score_view(pred, target, mask)
    with pytest.raises(InputError, match="unseen mask"):
        score_view(pred, target, mask, unseen=unseen[:20])


def test_shape_mismatch_and_empty_mask_are_input_errors():
    a = np.zeros((16, 16, 3))
    with pytest.raises(InputError, match="must both be"):
        psnr(a, np.zeros((16, 15, 3)))
    with pytest.raises(InputError, match="empty mask"):
        psnr(a, a, np.zeros((16, 16)))


def test_lpips_reports_unavailable_without_local_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    scorer, reason = load_lpips("alex")
    assert scorer is None and "unavailable" in reason and str(tmp_path) in reason


def test_lpips_loads_cached_backbone_weights(tmp_path, monkeypatch):
    """Squeezenet is small enough to fake a cached download: random weights at the cache path."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = _backbone_weights_file("squeeze")
    os.makedirs(os.path.dirname(path))
    torch.save(torchvision.models.squeezenet1_1(weights=None).state_dict(), path)
    scorer, reason = load_lpips("squeeze")
    assert reason == "" and scorer is not None
    image = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert scorer(image, image) == pytest.approx(0.0, abs=1e-6)
    assert scorer(image, 255 - image) > 0

"""Image-quality metrics against ground truth: full image, mask bounding box, mask pixels.

Why these variants: an object-removal result is judged where content was generated; a
full-image score is dominated by the (easy) reconstructed background. SPIn-NeRF's protocol
scores the bounding box of the removed object's mask, so that is what `bbox` means here;
`masked` PSNR uses only the mask's pixels. PSNR and SSIM come from torchmetrics. LPIPS needs
ImageNet backbone weights that torchvision downloads at first use; `load_lpips` only builds it
when those weights are already on disk and otherwise says why it is unavailable, so a report
never shows an invented number.

`seen` / `unseen` split the mask where the capture says which of its pixels some training view
photographed (the SPIn-NeRF-shaped synthetic captures' `test_unseen` masks): the unseen part is
what the method had to generate, the seen part what reconstruction alone could recover; each
gets PSNR over its pixels and the mean of the SSIM map (computed on the mask's box) over them.

Images: uint8 (H, W, 3) or float in [0, 1]; masks (H, W), nonzero = region.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from inpaint3d_core.boxes import Box
from inpaint3d_core.config_types import LpipsNet
from inpaint3d_core.errors import InputError

# torchmetrics' LPIPS backbone names -> torchvision model names (whose weights it downloads).
_TORCHVISION_BACKBONE = {"alex": "alexnet", "vgg": "vgg16", "squeeze": "squeezenet1_1"}
SSIM_MIN_SIDE = 11  # the Gaussian window of SSIM; smaller crops are grown to this


def to_tensor(image: np.ndarray, dtype: type = np.float64) -> torch.Tensor:
    """(H, W, 3) uint8 or float [0, 1] -> (1, 3, H, W) in [0, 1] (float64 unless `dtype` says)."""
    arr = np.asarray(image)
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    return torch.from_numpy(arr.astype(dtype) / dtype(scale)).permute(2, 0, 1)[None]


def _check_pair(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> None:
    if pred.shape != target.shape or pred.ndim != 3:
        raise InputError(f"metrics: prediction {pred.shape} and ground truth {target.shape} must both be (H, W, 3)")
    if mask is not None and mask.shape != pred.shape[:2]:
        raise InputError(f"metrics: mask {mask.shape} does not match image {pred.shape[:2]}")


def psnr(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB (data range 1), over the whole image or over the mask's pixels only."""
    _check_pair(pred, target, mask)
    p, t = to_tensor(pred), to_tensor(target)
    if mask is not None:
        sel = torch.from_numpy(np.asarray(mask) > 0)
        if not sel.any():
            raise InputError("metrics: masked PSNR asked for an empty mask")
        p, t = p[0][:, sel], t[0][:, sel]
    from torchmetrics.functional.image import peak_signal_noise_ratio  # ~5 s: only when scoring

    return float(peak_signal_noise_ratio(p, t, data_range=1.0))


def ssim(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean SSIM (Gaussian 11x11 window, sigma 1.5, as in Wang et al. 2004)."""
    return float(ssim_map(pred, target).mean())


def ssim_map(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM (H, W), averaged over the colour channels; its mean is `ssim`.

    In float32: the Gaussian window is a convolution, which PyTorch runs ~40x slower on the CPU
    in float64 (2.2 s per 1008x567 image on 2 cores, 3-4 per scored view, so evaluate spent
    minutes on a 40-view capture); float32 changes SSIM by ~1e-7.
    """
    _check_pair(pred, target)
    if min(pred.shape[:2]) < SSIM_MIN_SIDE:
        raise InputError(f"metrics: SSIM needs images of at least {SSIM_MIN_SIDE} px, got {pred.shape[:2]}")
    from torchmetrics.functional.image import structural_similarity_index_measure

    _, full = structural_similarity_index_measure(
        to_tensor(pred, np.float32), to_tensor(target, np.float32), data_range=1.0, return_full_image=True
    )
    return full[0].mean(0).numpy()


def mask_bbox(mask: np.ndarray, min_side: int = SSIM_MIN_SIDE) -> Box | None:
    """Bounding box of the mask, grown symmetrically (and kept inside the image) to at least
    `min_side` on each side so SSIM's window fits; None for an empty mask."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    height, width = mask.shape

    def span(lo: int, hi: int, size: int) -> tuple[int, int]:
        need = min(max(min_side, hi - lo), size)
        start = int(np.clip(lo - (need - (hi - lo)) // 2, 0, size - need))
        return start, start + need

    y0, y1 = span(int(ys.min()), int(ys.max()) + 1, height)
    x0, x1 = span(int(xs.min()), int(xs.max()) + 1, width)
    return Box(y0, y1, x0, x1)


class LpipsScorer:
    """LPIPS distance (lower = more similar) with a torchmetrics backbone whose weights exist locally."""

    def __init__(self, metric, net: str):
        self._metric = metric
        self.net = net

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        _check_pair(pred, target)
        p, t = to_tensor(pred).float(), to_tensor(target).float()
        with torch.no_grad():
            return float(self._metric(p, t))


def _backbone_weights_file(net: LpipsNet) -> str:
    """Where torchvision caches the ImageNet weights LPIPS's backbone would load."""
    import torchvision

    weights = torchvision.models.get_model_weights(_TORCHVISION_BACKBONE[net]).DEFAULT
    return os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(weights.url))


def load_lpips(net: LpipsNet = "alex") -> tuple[LpipsScorer | None, str]:
    """(scorer, "") when the backbone weights are cached locally, else (None, reason).

    Checking the cache first keeps evaluation offline: torchvision would otherwise try to
    download the weights (and fail, or hang, without a network).
    """
    if net not in _TORCHVISION_BACKBONE:
        raise InputError(f"LPIPS backbone must be one of {sorted(_TORCHVISION_BACKBONE)}, got {net!r}")
    path = _backbone_weights_file(net)
    if not os.path.exists(path):
        return None, f"LPIPS unavailable: backbone weights not found at {path} (no download attempted)"
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

    try:
        metric = LearnedPerceptualImagePatchSimilarity(net_type=net, normalize=True)
    except (RuntimeError, OSError, KeyError) as exc:
        return None, f"LPIPS unavailable: could not load backbone weights {path}: {exc}"
    return LpipsScorer(metric.eval(), net), ""


def score_view(
    pred: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray | None,
    lpips: LpipsScorer | None = None,
    unseen: np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """All metrics of one view: {"full": {...}, "bbox": {...}, "masked": {"psnr"}, "seen", "unseen"}.

    `bbox` and `masked` are absent when the view has no (non-empty) mask; `seen` and `unseen`
    (PSNR and SSIM over the part of the mask some training view saw / none saw) only when
    `unseen` is given, each absent when its part of the mask is empty.
    """
    _check_pair(pred, target, mask)
    scores: dict[str, dict[str, float]] = {"full": {"psnr": psnr(pred, target), "ssim": ssim(pred, target)}}
    if lpips is not None:
        scores["full"]["lpips"] = lpips(pred, target)
    box = mask_bbox(mask) if mask is not None else None
    if box is not None:
        bp, bt = box.crop(pred), box.crop(target)
        box_ssim = ssim_map(bp, bt)  # once: its mean is the bbox SSIM, its parts the seen/unseen SSIM
        scores["bbox"] = {"psnr": psnr(bp, bt), "ssim": float(box_ssim.mean())}
        if lpips is not None:
            scores["bbox"]["lpips"] = lpips(bp, bt)
        scores["masked"] = {"psnr": psnr(pred, target, mask)}
        if unseen is not None:
            scores.update(_split_scores(pred, target, np.asarray(mask) > 0, np.asarray(unseen) > 0, box, box_ssim))
    return scores


def _split_scores(
    pred: np.ndarray, target: np.ndarray, region: np.ndarray, unseen: np.ndarray, box: Box, box_ssim: np.ndarray
) -> dict[str, dict[str, float]]:
    if unseen.shape != region.shape:
        raise InputError(f"metrics: unseen mask {unseen.shape} does not match image {region.shape}")
    out = {}
    for name, part in (("seen", region & ~unseen), ("unseen", region & unseen)):
        if part.any():
            out[name] = {"psnr": psnr(pred, target, part), "ssim": float(box_ssim[box.crop(part)].mean())}
    return out


def mean_scores(per_view: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Mean of each (region, metric) over the views that have it (other keys of a view's entry,
    such as its name, are ignored).

    PSNR is averaged in dB per view (the convention of NeRF papers and SPIn-NeRF), not from
    the pooled MSE.
    """
    sums: dict[tuple[str, str], list[float]] = {}
    for scores in per_view:
        for region, metrics in scores.items():
            if not isinstance(metrics, dict):
                continue
            for name, value in metrics.items():
                sums.setdefault((region, name), []).append(value)
    out: dict[str, dict[str, float]] = {}
    for (region, name), values in sums.items():
        out.setdefault(region, {})[name] = float(np.mean(values))
    return out

"""Per-view fills: each view's hole painted on its own, with no knowledge of the other views.

Why these exist: they are the baselines the joint method has to beat. The inpaint stage fits a
NeRF to images filled here (the paper's per-view baseline, and a weights-free classical
reference), so any gain of joint SDS over them is the gain of sharing one 3D field.

Images are uint8 (H, W, 3); masks are uint8/bool (H, W) with 1 = region to fill. Outputs are
new uint8 arrays whose pixels outside the mask equal the input exactly.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import torch
from tqdm import tqdm

from inpaint3d_core.boxes import DEFAULT_CONTEXT, hole_crop, resize_crop
from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.base import InpaintingPrior

ClassicalMethod = Literal["telea", "ns"]
_CV2_FLAGS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}


def _check_pairs(images: list[np.ndarray], masks: list[np.ndarray]) -> None:
    if len(images) != len(masks):
        raise InputError(f"per-view fill: got {len(images)} images but {len(masks)} masks; pass one mask per view")
    for i, (image, mask) in enumerate(zip(images, masks, strict=True)):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(f"per-view fill: view {i} image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
        if mask.shape != image.shape[:2]:
            raise InputError(
                f"per-view fill: view {i} mask is {mask.shape} but its image is {image.shape[:2]}; "
                "masks must match their image size"
            )


def fill_views_classical(
    images: list[np.ndarray],
    masks: list[np.ndarray],
    method: ClassicalMethod = "telea",
    radius: float = 5.0,
) -> list[np.ndarray]:
    """Fill every hole with OpenCV's diffusion-style inpainting (Telea's fast marching or
    Navier-Stokes): smooth continuation of the border colours, no texture, no weights needed."""
    _check_pairs(images, masks)
    if method not in _CV2_FLAGS:
        raise InputError(f"classical fill: method must be one of {sorted(_CV2_FLAGS)}, got {method!r}")
    filled = []
    for image, mask in zip(tqdm(images, desc="classical fill", leave=False), masks, strict=True):
        hole = (np.asarray(mask) > 0).astype(np.uint8)
        if not hole.any():
            filled.append(image.copy())
            continue
        # cv2 works in BGR, but its inpainting treats channels independently, so RGB is fine.
        out = cv2.inpaint(np.ascontiguousarray(image), hole, radius, _CV2_FLAGS[method])
        out[hole == 0] = image[hole == 0]
        filled.append(out)
    return filled


def _prior_device(prior: InpaintingPrior) -> torch.device:
    return torch.device(getattr(prior, "device", "cpu"))


def fill_views_with_prior(
    prior: InpaintingPrior,
    images: list[np.ndarray],
    masks: list[np.ndarray],
    seed: int = 0,
    context: float | None = None,
) -> list[np.ndarray]:
    """Fill every view independently with `prior.inpaint` (the paper's per-view baseline).

    Each hole is cropped with `hole_crop`, resized to the prior's square `resolution`, sampled,
    resized back and pasted in; only hole pixels change. View i uses seed `seed + i`, so the
    views get independent samples, as an off-the-shelf 2D inpainter would give them. `context`
    (crop side / hole side) defaults to the prior's own `crop_context`, the framing it was
    trained or tuned for (the joint stage's SDS crops use it too), else 2.
    """
    _check_pairs(images, masks)
    device = _prior_device(prior)
    res = int(prior.resolution)
    if context is None:
        context = float(getattr(prior, "crop_context", DEFAULT_CONTEXT))
    filled = []
    for i, (image, mask) in enumerate(zip(tqdm(images, desc="per-view prior fill", leave=False), masks, strict=True)):
        hole = np.asarray(mask) > 0
        if not hole.any():
            filled.append(image.copy())
            continue
        box = hole_crop(hole, context=context)
        small_rgb, small_hole = resize_crop(image, hole, box, res)
        rgb_t = torch.from_numpy(small_rgb).to(device).permute(2, 0, 1)[None].float() / 255.0
        mask_t = torch.from_numpy(small_hole).to(device)[None, None].float()
        with torch.no_grad():
            sample = prior.inpaint(rgb_t, mask_t, seed=seed + i)
        sample_np = (sample[0].permute(1, 2, 0).clamp(0, 1).float().cpu().numpy() * 255.0).round().astype(np.uint8)
        back = cv2.resize(sample_np, (box.x1 - box.x0, box.y1 - box.y0), interpolation=cv2.INTER_CUBIC)
        out = image.copy()
        box.crop(out)[box.crop(hole)] = back[box.crop(hole)]
        filled.append(out)
    return filled

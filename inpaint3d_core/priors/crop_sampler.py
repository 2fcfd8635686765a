"""Random square crops of a capture's seen content (no pixel of the region to generate).

Why exclude masked pixels: the internal prior must learn the scene's appearance without the
object, so that what it paints into the hole is background, not the object being removed.
Crops are taken at several scales (a `resolution * scale` px window resized to `resolution`) so
the model sees both fine texture and wider context, as SDS crops around holes vary in size.

The images live on the training device, stacked (padded to the largest view) into one tensor,
and a batch is cut there with one gather and resized with one interpolation per scale: on a GPU
the crops cost almost nothing and never wait for the host (cut per crop on the CPU they took
30 ms of every 113 ms training step on a 100-view 1008x567 capture; one slice per crop on the
device still cost a launch each).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from inpaint3d_core.errors import InputError


@dataclass(frozen=True)
class _Candidates:
    side: int
    view: np.ndarray  # (N,) int32
    y: np.ndarray  # (N,) int32
    x: np.ndarray  # (N,) int32


def _free_windows(mask: np.ndarray, side: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners (on a `stride` grid) of side x side windows with no masked pixel."""
    height, width = mask.shape
    if side > height or side > width:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    sums = cv2.integral((np.asarray(mask) > 0).astype(np.uint8))
    ys = np.arange(0, height - side + 1, stride)
    xs = np.arange(0, width - side + 1, stride)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    inside = sums[yy + side, xx + side] - sums[yy, xx + side] - sums[yy + side, xx] + sums[yy, xx]
    free = inside == 0
    return yy[free].astype(np.int32), xx[free].astype(np.int32)


class CropSampler:
    """Draws batches of (B, 3, res, res) float crops in [-1, 1] from unmasked content."""

    def __init__(
        self,
        images: list[np.ndarray],
        masks: list[np.ndarray],
        resolution: int,
        scales: tuple[float, ...],
        device: torch.device | str = "cpu",
    ):
        if len(images) != len(masks) or not images:
            raise InputError(f"internal prior: got {len(images)} images and {len(masks)} masks; pass one mask per view")
        for i, (image, mask) in enumerate(zip(images, masks, strict=True)):
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or mask.shape != image.shape[:2]:
                raise InputError(
                    f"internal prior: view {i} needs a uint8 (H, W, 3) image and an (H, W) mask; "
                    f"got {image.dtype} {image.shape} and {mask.shape}"
                )
        height = max(image.shape[0] for image in images)
        width = max(image.shape[1] for image in images)
        stack = np.zeros((len(images), height, width, 3), np.uint8)  # windows never reach the padding
        for i, image in enumerate(images):
            stack[i, : image.shape[0], : image.shape[1]] = image
        self.images = torch.from_numpy(stack).to(device)
        self.resolution = resolution
        self.candidates = []
        for scale in scales:
            side = round(resolution * scale)
            stride = max(1, side // 8)
            corners = [_free_windows(mask, side, stride) for mask in masks]
            view = np.concatenate([np.full(len(y), i, np.int32) for i, (y, _) in enumerate(corners)])
            if len(view):
                ys = np.concatenate([y for y, _ in corners])
                xs = np.concatenate([x for _, x in corners])
                self.candidates.append(_Candidates(side, view, ys, xs))
        if not self.candidates:
            raise InputError(
                f"internal prior: no {resolution}px crop (scales {scales}) fits outside the masks in any view; "
                "lower the internal prior's resolution/crop scales or check that the masks do not cover everything"
            )

    def sample(self, rng: np.random.Generator, batch: int) -> torch.Tensor:
        """(batch, 3, res, res) crops on the images' device, in random order of scales."""
        device = self.images.device
        scale_of = rng.integers(len(self.candidates), size=batch)
        flips = rng.random(batch) < 0.5
        out = torch.empty(batch, 3, self.resolution, self.resolution, device=device)
        for s, cand in enumerate(self.candidates):
            slots = np.flatnonzero(scale_of == s)
            if len(slots) == 0:
                continue
            picks = rng.integers(len(cand.view), size=len(slots))
            offsets = np.arange(cand.side)
            # flipped crops read their columns right to left: the flip is part of the gather
            cols = np.where(flips[slots, None], offsets[::-1], offsets)[:, None, :] + cand.x[picks, None, None]
            rows = (cand.y[picks, None] + offsets)[:, :, None]
            view = cand.view[picks, None, None]
            index = [torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(device) for a in (view, rows, cols)]
            crops = self.images[index[0], index[1], index[2]].permute(0, 3, 1, 2).float() / 127.5 - 1.0
            if cand.side != self.resolution:
                crops = F.interpolate(crops, size=self.resolution, mode="bilinear", antialias=True)
            out[torch.from_numpy(slots).to(device)] = crops
        return out

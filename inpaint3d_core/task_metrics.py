"""Numbers that say whether a task's generated region is good, with or without ground truth.

- opacity coverage: fraction of the generated region's pixels the final field renders opaque
  (accumulated opacity >= 0.5). Expansion's whole point is to cover what was empty; for the
  other tasks it catches holes left see-through.
- consistency: `consistency.multiview_consistency` over the generated region, between input
  views (removal/completion/replacement) or between virtual views (expansion).
- kept-region PSNR (completion): the final render against the reconstruction (warm-up render)
  outside the generated region, over the views given; high means the rest of the object and
  scene stayed as reconstructed while the region was regenerated.

Renders are dicts rgb (H, W, 3) float [0, 1], depth (H, W) z-depth, acc (H, W), as
`TrainedRadianceField.render_view` returns them.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from tqdm import tqdm

from inpaint3d_core.consistency import RenderedView, multiview_consistency
from inpaint3d_core.metrics import psnr
from inpaint3d_core.scene import read_virtual_views
from inpaint3d_core.store import SceneStore


class RendersViews(Protocol):
    def render_view(self, K: np.ndarray, c2w: np.ndarray, width: int, height: int) -> dict[str, np.ndarray]: ...


def opacity_coverage(renders: list[dict], regions: list[np.ndarray], threshold: float = 0.5) -> float | None:
    """Fraction of all region pixels (over every view) rendered with opacity >= threshold."""
    covered = total = 0
    for render, region in zip(renders, regions, strict=True):
        sel = np.asarray(region) > 0
        covered += int((render["acc"][sel] >= threshold).sum())
        total += int(sel.sum())
    return covered / total if total else None


def region_consistency(
    renders: list[dict], regions: list[np.ndarray], K: np.ndarray, c2w: np.ndarray, neighbours: int = 2
) -> dict | None:
    """Multi-view consistency of the region over the views that have one (None below two)."""
    chosen = [k for k, region in enumerate(regions) if np.asarray(region).any()]
    if len(chosen) < 2:
        return None
    views = [
        RenderedView(renders[k]["rgb"], renders[k]["depth"], K[k], c2w[k], np.asarray(regions[k]), renders[k]["acc"])
        for k in chosen
    ]
    result = multiview_consistency(views, neighbours=min(neighbours, len(chosen) - 1))
    return {key: result[key] for key in ("photometric_l1", "depth_error", "coverage", "pairs")}


def kept_region_psnr(final: list[dict], reference: list[dict], regions: list[np.ndarray]) -> float | None:
    """PSNR of the final renders against the reference renders over the pixels outside `regions`
    (all views pooled into one comparison)."""
    keep = [~(np.asarray(r) > 0) for r in regions]
    if not any(k.any() for k in keep):
        return None
    pred = np.concatenate([f["rgb"][k] for f, k in zip(final, keep, strict=True)])[None]
    target = np.concatenate([r["rgb"][k] for r, k in zip(reference, keep, strict=True)])[None]
    return psnr(pred.astype(np.float32), target.astype(np.float32))


def masked_psnr(renders: list[dict], truths: list[np.ndarray], regions: list[np.ndarray]) -> float | None:
    """PSNR against ground-truth images (uint8 or float) over the region pixels of all views."""
    sel = [np.asarray(r) > 0 for r in regions]
    if not any(s.any() for s in sel):
        return None
    pred = np.concatenate([r["rgb"][s] for r, s in zip(renders, sel, strict=True)])[None]
    target = np.concatenate(
        [(t.astype(np.float32) / 255.0 if t.dtype == np.uint8 else t)[s] for t, s in zip(truths, sel, strict=True)]
    )[None]
    return psnr(pred.astype(np.float32), target.astype(np.float32))


def render_cameras(field: RendersViews, K: np.ndarray, c2w: np.ndarray, widths, heights, desc: str) -> list[dict]:
    return [
        field.render_view(K[k], c2w[k], int(widths[k]), int(heights[k]))
        for k in tqdm(range(len(K)), desc=desc, leave=False)
    ]


def expansion_metrics(renders: list[dict], store: SceneStore) -> dict:
    """Opacity coverage and consistency of the newly covered pixels of the virtual views, from the
    final field's `renders` of them (in the order the store lists them)."""
    cams, masks, _ = read_virtual_views(store)
    return {
        "virtual_views": len(cams),
        "hole_fraction": [float(m.mean()) for m in masks],
        "opacity_coverage": opacity_coverage(renders, masks),
        "consistency": region_consistency(renders, masks, cams.K, cams.c2w),
    }

"""The training views as banks of pixels to draw rays from: known pixels and hole pixels.

Views may differ in size (per-view intrinsics), so pixels of all views are concatenated into
one flat index space; a pixel is one int64, and its view, row and column are recovered from
per-view offsets. Known pixels feed the reconstruction loss; hole pixels (dilated mask) feed the
depth and floater terms. Dropping the hole pixels from the known bank is what "masked rays
dropped" means for the reconstruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from inpaint3d_core.cameras import pixel_rays, ray_z_scale


@dataclass
class TrainingViews:
    """Images uint8 (H, W, 3), hole masks bool (H, W), cameras K (N,3,3) and c2w (N,4,4)."""

    images: list[np.ndarray]
    holes: list[np.ndarray]
    K: np.ndarray
    c2w: np.ndarray

    def __post_init__(self) -> None:
        if not (len(self.images) == len(self.holes) == len(self.K) == len(self.c2w)):
            raise ValueError("TrainingViews: images, holes, K and c2w must have one entry per view")

    def __len__(self) -> int:
        return len(self.images)

    def views_with_holes(self) -> list[int]:
        return [i for i, hole in enumerate(self.holes) if hole.any()]


@dataclass
class RayBatch:
    origins: torch.Tensor
    directions: torch.Tensor
    view_ids: torch.Tensor
    pixels: torch.Tensor  # flat pixel index (into the bank's concatenated images)
    rgb: torch.Tensor | None = None  # (R, 3) in [0, 1] for known pixels
    z_scale: torch.Tensor | None = None  # (R,) distance-along-ray -> z-depth factor


class RayBank:
    """Draws random rays from the known or the hole pixels of all views, on `device`."""

    def __init__(self, views: TrainingViews, device: torch.device):
        self.device = device
        sizes = [img.shape[0] * img.shape[1] for img in views.images]
        self.widths = torch.tensor([img.shape[1] for img in views.images], device=device)
        self.offsets = torch.tensor(np.concatenate([[0], np.cumsum(sizes)]), device=device)
        self.rgb = torch.from_numpy(np.concatenate([img.reshape(-1, 3) for img in views.images])).to(device)
        holes = np.concatenate([h.reshape(-1) for h in views.holes]).astype(bool)
        self.known = torch.from_numpy(np.flatnonzero(~holes)).to(device)
        self.hole = torch.from_numpy(np.flatnonzero(holes)).to(device)
        self.hole_pool = self.hole  # what 'hole' samples draw from (`restrict_hole`)
        self.K = torch.as_tensor(views.K, dtype=torch.float32, device=device)
        self.c2w = torch.as_tensor(views.c2w, dtype=torch.float32, device=device)

    def locate(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat pixel indices -> (view ids, pixel-centre xy)."""
        view = torch.searchsorted(self.offsets, pixels, right=True) - 1
        local = pixels - self.offsets[view]
        width = self.widths[view]
        xy = torch.stack([(local % width).float() + 0.5, (local // width).float() + 0.5], dim=-1)
        return view, xy

    def rays(self, pixels: torch.Tensor, with_rgb: bool) -> RayBatch:
        view, xy = self.locate(pixels)
        origins, directions = pixel_rays(self.K[view], self.c2w[view], xy)
        rgb = self.rgb[pixels].float() / 255.0 if with_rgb else None
        return RayBatch(origins, directions, view, pixels, rgb, ray_z_scale(self.K[view], xy))

    def restrict_hole(self, regions: dict[int, np.ndarray]) -> None:
        """Hole rays ('hole' samples) drawn only from `regions` (view -> bool mask inside its hole);
        views without a region keep no hole rays. The full hole list stays in `hole` for lookups."""
        parts = [np.flatnonzero(region.reshape(-1)) + int(self.offsets[v]) for v, region in sorted(regions.items())]
        self.hole_pool = torch.from_numpy(np.concatenate(parts) if parts else np.zeros(0, np.int64)).to(self.device)

    def sample(self, kind: str, n: int, generator: torch.Generator) -> RayBatch:
        """`n` rays from the 'known' or 'hole' pixels, drawn with replacement."""
        pool = self.known if kind == "known" else self.hole_pool
        pick = torch.randint(0, pool.shape[0], (n,), generator=generator).to(self.device)
        return self.rays(pool[pick], with_rgb=kind == "known")

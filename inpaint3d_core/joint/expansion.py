"""Scene expansion: virtual cameras that look past what the capture saw, and their holes.

Why virtual cameras: SDS needs views in which the unseen part of the scene sits next to seen
content, so the prior continues the scene outward. Two kinds, both anchored on the capture:

- wider: an input camera with a larger image at the same focal length (`fov_factor` x the
  side). Its centre is exactly the captured view; the new border is unseen.
- extend: cameras continuing the capture path past each end, stepping by the path's own last
  motion (rotation and translation), so an arc keeps turning and a walk keeps walking.

A virtual pixel is *unobserved* (the hole SDS fills) when the warm-up field renders it nearly
transparent (accumulated opacity below `acc_threshold`), or when the surface it renders lies
outside every input camera's frustum (nothing there was photographed: a field extrapolates
there freely, so its render cannot be trusted). Occlusion inside a frustum is not tested: a
surface the inputs saw from the same side counts as observed.

The virtual views' images are the warm-up renders; the prior sees them as the known context
around the hole. Hole depth is filled from the rendered depth around it (`fill_hole_depth`), so
the depth, free-space and opacity terms apply to virtual holes as they do to masked holes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation
from tqdm import tqdm

from inpaint3d_core.cameras import VirtualCameras
from inpaint3d_core.joint.config import ExpansionConfig
from inpaint3d_core.joint.depth import fill_hole_depth
from inpaint3d_core.joint.rays import RayBank, TrainingViews

# render(K, c2w, width, height, appearance view) -> rgb (H, W, 3) float [0, 1], z-depth (H, W), acc (H, W)
CameraRenderer = Callable[[np.ndarray, np.ndarray, int, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]


def wider_cameras(K: np.ndarray, c2w: np.ndarray, widths, heights, factor: float, count: int) -> VirtualCameras:
    """`count` input views (evenly spread) with images `factor` x larger around the same principal
    point, at the same focal length: the captured view is the centre of the wider one."""
    n = len(K)
    picks = np.unique(np.linspace(0, n - 1, min(count, n)).round().astype(int)) if count > 0 else np.zeros(0, int)
    new_w = np.array([int(round(widths[i] * factor)) for i in picks], dtype=np.int64)
    new_h = np.array([int(round(heights[i] * factor)) for i in picks], dtype=np.int64)
    Ks = np.array(K[picks], dtype=np.float64).reshape(-1, 3, 3)
    for k, i in enumerate(picks):
        Ks[k, 0, 2] += 0.5 * (new_w[k] - widths[i])
        Ks[k, 1, 2] += 0.5 * (new_h[k] - heights[i])
    return VirtualCameras(
        Ks, np.array(c2w[picks], dtype=np.float64).reshape(-1, 4, 4), new_w, new_h, picks, ["wider"] * len(picks)
    )


def _scaled_motion(motion: np.ndarray, step: float) -> np.ndarray:
    """A rigid motion with its rotation angle and translation scaled by `step` (screw-free
    interpolation: exact for step 1, smooth in between)."""
    out = np.eye(4)
    out[:3, :3] = Rotation.from_rotvec(Rotation.from_matrix(motion[:3, :3]).as_rotvec() * step).as_matrix()
    out[:3, 3] = motion[:3, 3] * step
    return out


def extended_cameras(K: np.ndarray, c2w: np.ndarray, widths, heights, count: int, step: float) -> VirtualCameras:
    """`count` cameras past each end of the path (views in capture order), each one the end
    camera moved on by the path's last relative motion (scaled by `step`) once more."""
    n = len(K)
    if n < 2 or count == 0:
        return VirtualCameras(
            np.zeros((0, 3, 3)), np.zeros((0, 4, 4)), np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), []
        )
    Ks, poses, src = [], [], []
    for end, before in ((n - 1, n - 2), (0, 1)):
        motion = _scaled_motion(np.linalg.inv(c2w[before]) @ c2w[end], step)  # in the end camera's frame
        pose = np.array(c2w[end], dtype=np.float64)
        for _ in range(count):
            pose = pose @ motion
            Ks.append(K[end])
            poses.append(pose.copy())
            src.append(end)
    src = np.array(src, dtype=np.int64)
    return VirtualCameras(
        np.array(Ks, dtype=np.float64),
        np.array(poses),
        np.asarray(widths)[src].astype(np.int64),
        np.asarray(heights)[src].astype(np.int64),
        src,
        ["extend"] * len(src),
    )


def virtual_cameras(K: np.ndarray, c2w: np.ndarray, widths, heights, config: ExpansionConfig) -> VirtualCameras:
    """The virtual cameras `config` asks for, wider ones first."""
    parts = []
    if config.cameras in ("wider", "both"):
        parts.append(wider_cameras(K, c2w, widths, heights, config.fov_factor, config.wider_views))
    if config.cameras in ("extend", "both"):
        parts.append(extended_cameras(K, c2w, widths, heights, config.extend_views, config.extend_step))
    return VirtualCameras(
        np.concatenate([p.K for p in parts]).reshape(-1, 3, 3),
        np.concatenate([p.c2w for p in parts]).reshape(-1, 4, 4),
        np.concatenate([p.width for p in parts]).astype(np.int64),
        np.concatenate([p.height for p in parts]).astype(np.int64),
        np.concatenate([p.source for p in parts]).astype(np.int64),
        [kind for p in parts for kind in p.kind],
    )


def inside_input_frustums(
    K: np.ndarray, c2w: np.ndarray, depth: np.ndarray, input_K: np.ndarray, input_c2w: np.ndarray, widths, heights
) -> np.ndarray:
    """(H, W) bool: the surface point at `depth` (z) behind each pixel of the camera (K, c2w)
    projects in front of, and inside the image of, at least one input camera."""
    h, w = depth.shape
    xs, ys = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    rays = np.stack([xs, ys, np.ones_like(xs)], -1).reshape(-1, 3) @ np.linalg.inv(K).T
    points = (rays * depth.reshape(-1, 1)) @ c2w[:3, :3].T + c2w[:3, 3]
    seen = np.zeros(h * w, dtype=bool)
    for Ki, pose, wi, hi in zip(input_K, input_c2w, widths, heights, strict=True):
        w2c = np.linalg.inv(pose)
        cam = points @ w2c[:3, :3].T + w2c[:3, 3]
        z = cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (cam @ Ki.T)[:, :2] / z[:, None]
        seen |= (z > 1e-6) & (uv[:, 0] >= 0) & (uv[:, 0] <= wi) & (uv[:, 1] >= 0) & (uv[:, 1] <= hi)
    return seen.reshape(h, w) & (depth > 0)


def unobserved_mask(acc: np.ndarray, inside: np.ndarray, acc_threshold: float, dilate_px: int) -> np.ndarray:
    """bool (H, W): nearly transparent, or outside every input frustum; dilated by `dilate_px`."""
    hole = (acc < acc_threshold) | ~inside
    if dilate_px > 0 and hole.any():
        size = 2 * dilate_px + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        hole = cv2.dilate(hole.astype(np.uint8), kernel) > 0
    return hole


@dataclass
class VirtualViews:
    """The virtual views SDS and the hole terms use: warm-up renders as uint8 images (the known
    context), unobserved holes, filled hole depth (z), cameras and appearance sources."""

    cameras: VirtualCameras
    images: list[np.ndarray]
    holes: list[np.ndarray]
    depth_targets: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.images)

    def training_views(self) -> TrainingViews:
        return TrainingViews(self.images, self.holes, self.cameras.K, self.cameras.c2w)

    def hole_fraction(self) -> list[float]:
        return [float(h.mean()) for h in self.holes]

    def to_tensors(self, prefix: str = "virtual.") -> dict[str, torch.Tensor]:
        """Flat tensors for a safetensors checkpoint (see `from_tensors`)."""
        cams = self.cameras
        out = {
            f"{prefix}K": torch.from_numpy(cams.K),
            f"{prefix}c2w": torch.from_numpy(cams.c2w),
            f"{prefix}size": torch.from_numpy(np.stack([cams.width, cams.height], -1)),
            f"{prefix}source": torch.from_numpy(cams.source),
            f"{prefix}wider": torch.tensor([kind == "wider" for kind in cams.kind]),
        }
        for k, (image, hole, depth) in enumerate(zip(self.images, self.holes, self.depth_targets, strict=True)):
            out[f"{prefix}image.{k}"] = torch.from_numpy(np.ascontiguousarray(image))
            out[f"{prefix}hole.{k}"] = torch.from_numpy(np.ascontiguousarray(hole))
            out[f"{prefix}depth.{k}"] = torch.from_numpy(np.ascontiguousarray(depth))
        return out

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], prefix: str = "virtual.") -> VirtualViews | None:
        if f"{prefix}K" not in tensors:
            return None
        size = tensors[f"{prefix}size"].numpy()
        cams = VirtualCameras(
            tensors[f"{prefix}K"].numpy(),
            tensors[f"{prefix}c2w"].numpy(),
            size[:, 0],
            size[:, 1],
            tensors[f"{prefix}source"].numpy(),
            ["wider" if w else "extend" for w in tensors[f"{prefix}wider"].tolist()],
        )
        n = len(cams)
        return cls(
            cams,
            [tensors[f"{prefix}image.{k}"].numpy() for k in range(n)],
            [tensors[f"{prefix}hole.{k}"].numpy() for k in range(n)],
            [tensors[f"{prefix}depth.{k}"].numpy() for k in range(n)],
        )


def build_virtual_views(
    render: CameraRenderer, views: TrainingViews, config: ExpansionConfig, widths=None, heights=None
) -> VirtualViews:
    """Render every virtual camera with the warm-up field, find its unobserved pixels and fill
    their depth; virtual views with (almost) nothing unobserved are dropped."""
    widths = np.array([img.shape[1] for img in views.images]) if widths is None else np.asarray(widths)
    heights = np.array([img.shape[0] for img in views.images]) if heights is None else np.asarray(heights)
    cams = virtual_cameras(views.K, views.c2w, widths, heights, config)
    keep, images, holes, depths = [], [], [], []
    for k in tqdm(range(len(cams)), desc="virtual views", leave=False):
        w, h = int(cams.width[k]), int(cams.height[k])
        rgb, depth, acc = render(cams.K[k], cams.c2w[k], w, h, int(cams.source[k]))
        inside = inside_input_frustums(cams.K[k], cams.c2w[k], depth, views.K, views.c2w, widths, heights)
        hole = unobserved_mask(acc, inside, config.acc_threshold, config.dilate_px)
        if hole.mean() < max(config.min_hole_fraction, 1.0 / hole.size) or hole.all():
            continue  # nothing to grow here, or no seen context at all for the prior to continue
        image = (np.clip(rgb, 0.0, 1.0) * 255.0).round().astype(np.uint8)
        image[hole] = 0
        valid = (acc >= config.acc_threshold) & inside & (depth > 0)
        keep.append(k)
        images.append(image)
        holes.append(hole)
        depths.append(fill_hole_depth(depth, hole, valid=valid))
    index = np.array(keep, dtype=np.int64)
    chosen = VirtualCameras(
        cams.K[index].reshape(-1, 3, 3),
        cams.c2w[index].reshape(-1, 4, 4),
        cams.width[index],
        cams.height[index],
        cams.source[index],
        [cams.kind[k] for k in keep],
    )
    return VirtualViews(chosen, images, holes, depths)


class VirtualHoleRays:
    """Draws rays from the virtual holes with their filled depth (for the depth/opacity terms)."""

    def __init__(self, virtual: VirtualViews, device: torch.device):
        self.bank = RayBank(virtual.training_views(), device)
        self.source = torch.as_tensor(virtual.cameras.source, device=device)
        flat = np.concatenate([d.reshape(-1) for d in virtual.depth_targets]).astype(np.float32)
        self.target_z = torch.from_numpy(flat).to(device)

    def sample(self, n: int, generator: torch.Generator):
        """(batch, appearance view ids, target distance along the unit ray)."""
        batch = self.bank.sample("hole", n, generator)
        return batch, self.source[batch.view_ids], self.target_z[batch.pixels] / batch.z_scale

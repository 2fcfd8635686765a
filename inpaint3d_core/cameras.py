"""Camera model and pose conventions.

Inside the project every pose is OpenCV: x right, y down, z forward, camera-to-world 4x4
(`c2w`), pinhole intrinsics `K` (3x3) per view. Other conventions (OpenGL/NeRF "transforms.json",
LLFF's down-right-back axes) are converted at the edges only, with the functions below, so no
stage ever has to guess which convention an array is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

# Flipping y and z turns an OpenCV camera frame into an OpenGL one and back (its own inverse).
_FLIP_YZ = np.diag([1.0, -1.0, -1.0, 1.0])


@dataclass(frozen=True)
class Cameras:
    """A set of pinhole cameras; arrays are per view so views may differ in size.

    Attributes:
        K: (N, 3, 3) intrinsics in pixels of the stored image size.
        c2w: (N, 4, 4) camera-to-world, OpenCV axes.
        width, height: (N,) image sizes in pixels.
    """

    K: np.ndarray
    c2w: np.ndarray
    width: np.ndarray
    height: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.K)
        if self.K.shape != (n, 3, 3) or self.c2w.shape != (n, 4, 4):
            raise ValueError(f"Cameras: K must be (N,3,3) and c2w (N,4,4); got {self.K.shape}, {self.c2w.shape}")
        if self.width.shape != (n,) or self.height.shape != (n,):
            raise ValueError("Cameras: width and height must be (N,) arrays")

    def __len__(self) -> int:
        return len(self.K)

    def subset(self, index) -> Cameras:
        """Cameras of the selected views (index: int array or bool mask)."""
        return Cameras(self.K[index], self.c2w[index], self.width[index], self.height[index])

    @property
    def centers(self) -> np.ndarray:
        """(N, 3) camera centres in world coordinates."""
        return self.c2w[:, :3, 3]

    def w2c(self) -> np.ndarray:
        """(N, 4, 4) world-to-camera matrices."""
        return np.linalg.inv(self.c2w)

    def project(self, points_world: np.ndarray, view: int) -> tuple[np.ndarray, np.ndarray]:
        """Project (P, 3) world points into one view: returns (P, 2) pixel xy and (P,) depth (z)."""
        w2c = np.linalg.inv(self.c2w[view])
        cam = points_world @ w2c[:3, :3].T + w2c[:3, 3]
        z = cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (cam @ self.K[view].T)[:, :2] / z[:, None]
        return uv, z


def opengl_to_opencv(c2w: np.ndarray) -> np.ndarray:
    """Camera-to-world in OpenGL/NeRF axes (x right, y up, z back) to OpenCV axes."""
    return c2w @ _FLIP_YZ


def opencv_to_opengl(c2w: np.ndarray) -> np.ndarray:
    """Camera-to-world in OpenCV axes to OpenGL/NeRF axes (used by transforms.json)."""
    return c2w @ _FLIP_YZ


def llff_to_opencv(c2w_llff: np.ndarray) -> np.ndarray:
    """LLFF pose columns are (down, right, back) camera axes; OpenCV wants (right, down, forward)."""
    out = np.array(c2w_llff, dtype=np.float64, copy=True)
    down, right, back = c2w_llff[..., :3, 0], c2w_llff[..., :3, 1], c2w_llff[..., :3, 2]
    out[..., :3, 0], out[..., :3, 1], out[..., :3, 2] = right, down, -back
    return out


def opencv_to_llff(c2w: np.ndarray) -> np.ndarray:
    """Inverse of `llff_to_opencv`."""
    out = np.array(c2w, dtype=np.float64, copy=True)
    right, down, fwd = c2w[..., :3, 0], c2w[..., :3, 1], c2w[..., :3, 2]
    out[..., :3, 0], out[..., :3, 1], out[..., :3, 2] = down, right, -fwd
    return out


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray = np.array([0.0, 0.0, 1.0])) -> np.ndarray:
    """OpenCV camera-to-world for a camera at `eye` looking at `target`; `up` is the world up."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:
        raise ValueError("look_at: viewing direction is parallel to the up vector")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, down, forward, eye
    return c2w


def intrinsics(focal: float, width: int, height: int, focal_y: float | None = None) -> np.ndarray:
    """Pinhole K with the principal point at the image centre."""
    return np.array(
        [
            [focal, 0.0, width / 2.0],
            [0.0, focal if focal_y is None else focal_y, height / 2.0],
            [0.0, 0.0, 1.0],
        ]
    )


def scale_intrinsics(K: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Intrinsics after resizing an image by (sx, sy); pixel-centre convention kept consistent."""
    out = np.array(K, dtype=np.float64, copy=True)
    out[..., 0, :] *= sx
    out[..., 1, :] *= sy
    return out


def pixel_rays(K: torch.Tensor, c2w: torch.Tensor, xy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """World-space rays through pixel coordinates.

    K: (3,3) or (R,3,3); c2w: (4,4) or (R,4,4); xy: (R,2) pixel coordinates where integer + 0.5
    is a pixel centre. Returns origins (R,3) and unit directions (R,3); distance t along a unit
    ray becomes OpenCV depth (z) via `ray_z_scale`.
    """
    import torch  # here, not at the top: ingest and poses use this module's numpy half without torch

    fx, fy = K[..., 0, 0], K[..., 1, 1]
    cx, cy = K[..., 0, 2], K[..., 1, 2]
    d_cam = torch.stack([(xy[:, 0] - cx) / fx, (xy[:, 1] - cy) / fy, torch.ones_like(xy[:, 0])], dim=-1)
    rot = c2w[..., :3, :3]
    d_world = (rot @ d_cam.unsqueeze(-1)).squeeze(-1) if rot.dim() == 3 else d_cam @ rot.T
    origins = c2w[..., :3, 3].expand_as(d_world)
    return origins, torch.nn.functional.normalize(d_world, dim=-1)


def ray_z_scale(K: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Factor turning distance along a unit ray into OpenCV depth (z): 1 / |K^-1 [x, y, 1]|."""
    import torch

    fx, fy = K[..., 0, 0], K[..., 1, 1]
    cx, cy = K[..., 0, 2], K[..., 1, 2]
    d = torch.stack([(xy[:, 0] - cx) / fx, (xy[:, 1] - cy) / fy, torch.ones_like(xy[:, 0])], dim=-1)
    return 1.0 / d.norm(dim=-1)


def image_pixel_grid(width: int, height: int, device=None) -> torch.Tensor:
    """(H*W, 2) pixel-centre coordinates in row-major order."""
    import torch

    ys, xs = torch.meshgrid(
        torch.arange(height, device=device, dtype=torch.float32),
        torch.arange(width, device=device, dtype=torch.float32),
        indexing="ij",
    )
    return torch.stack([xs.reshape(-1) + 0.5, ys.reshape(-1) + 0.5], dim=-1)


@dataclass
class VirtualCameras:
    """Scene expansion's virtual cameras (`joint.expansion` makes them, the store keeps them): K
    (V,3,3), c2w (V,4,4) OpenCV, sizes (V,), the input view each one borrows its appearance code
    from, and its kind ('wider' or 'extend')."""

    K: np.ndarray
    c2w: np.ndarray
    width: np.ndarray
    height: np.ndarray
    source: np.ndarray
    kind: list[str]

    def __len__(self) -> int:
        return len(self.K)


@dataclass(frozen=True)
class Normalization:
    """Similarity transform from the capture's world to the normalised scene: x_n = scale * (x - center).

    Stored with the poses so every output can be mapped back to the capture's coordinates.
    """

    center: np.ndarray
    scale: float

    def apply_points(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points) - self.center) * self.scale

    def apply_c2w(self, c2w: np.ndarray) -> np.ndarray:
        out = np.array(c2w, dtype=np.float64, copy=True)
        out[..., :3, 3] = (out[..., :3, 3] - self.center) * self.scale
        return out

    def invert_points(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points) / self.scale + self.center

    def invert_c2w(self, c2w: np.ndarray) -> np.ndarray:
        out = np.array(c2w, dtype=np.float64, copy=True)
        out[..., :3, 3] = out[..., :3, 3] / self.scale + self.center
        return out

    def to_dict(self) -> dict:
        return {"center": [float(v) for v in self.center], "scale": float(self.scale)}

    @classmethod
    def from_dict(cls, d: dict) -> Normalization:
        return cls(center=np.asarray(d["center"], dtype=np.float64), scale=float(d["scale"]))


def fit_normalization(centers: np.ndarray, points: np.ndarray | None = None, radius: float = 1.0) -> Normalization:
    """Centre on the region the cameras look at and scale so cameras (and robust points) fit `radius`.

    Why: the hash grid and scene contraction assume the content of interest lies in a unit-ish
    box; cameras must sit inside it. The centre is the point closest to all optical axes would be
    nicer, but the mean of cameras and the points' robust centre is stable for orbits and
    forward-facing captures alike.
    """
    centers = np.asarray(centers, dtype=np.float64)
    if points is not None and len(points) >= 10:
        lo, hi = np.percentile(points, [5, 95], axis=0)
        center = 0.5 * (lo + hi)
        extent = max(np.abs(centers - center).max(), np.abs(np.stack([lo, hi]) - center).max())
    else:
        center = centers.mean(axis=0)
        extent = np.abs(centers - center).max()
    extent = max(float(extent), 1e-6)
    return Normalization(center=center, scale=radius / extent)


def nearest_views(c2w: np.ndarray, k: int) -> list[list[int]]:
    """For each camera, the k others closest to it, scored by centre distance plus the angle
    between viewing directions (normalised by the scene's camera spread), so neighbours see
    roughly the same region."""
    centers = c2w[:, :3, 3]
    forward = c2w[:, :3, 2]
    dist = np.linalg.norm(centers[:, None] - centers[None], axis=-1)
    spread = max(float(np.median(dist[dist > 0])) if (dist > 0).any() else 1.0, 1e-9)
    angle = np.arccos(np.clip(forward @ forward.T, -1.0, 1.0))
    score = dist / spread + angle
    np.fill_diagonal(score, np.inf)
    return [list(np.argsort(row)[: min(k, len(c2w) - 1)]) for row in score]

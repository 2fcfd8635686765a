"""LLFF `poses_bounds.npy`: one row per image (sorted file names), 3x5 `[R | t | hwf]` + near/far.

The rotation columns are LLFF camera axes (down, right, back) and `hwf` (height, width, focal)
is given at the resolution of the full-size images, whichever `images_N/` folder is used; the
principal point is implicitly the image centre. Converted to OpenCV cameras on the way in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inpaint3d_core.cameras import intrinsics, llff_to_opencv, opencv_to_llff
from inpaint3d_core.errors import InputError

POSES_BOUNDS = "poses_bounds.npy"
_DOWNSCALED = re.compile(r"^images_(\d+)$")


@dataclass
class LLFFPoses:
    c2w: np.ndarray  # (N, 4, 4) OpenCV axes
    K: np.ndarray  # (N, 3, 3) at (width, height)
    width: np.ndarray  # (N,) full-resolution size the intrinsics refer to
    height: np.ndarray
    bounds: np.ndarray  # (N, 2) near/far depths in the file's world units


def read_poses_bounds(path: str | Path) -> LLFFPoses:
    path = Path(path)
    try:
        data = np.load(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable poses_bounds.npy ({exc})") from exc
    if data.ndim != 2 or data.shape[1] != 17 or len(data) == 0:
        raise InputError(f"{path}: expected an (N, 17) array, got {data.shape}")
    mats = data[:, :15].reshape(-1, 3, 5).astype(np.float64)
    c2w_llff = np.tile(np.eye(4), (len(data), 1, 1))
    c2w_llff[:, :3, :4] = mats[:, :, :4]
    height, width, focal = mats[:, 0, 4], mats[:, 1, 4], mats[:, 2, 4]
    K = np.stack([intrinsics(f, w, h) for f, w, h in zip(focal, width, height, strict=True)])
    return LLFFPoses(
        c2w=llff_to_opencv(c2w_llff),
        K=K,
        width=np.round(width).astype(np.int64),
        height=np.round(height).astype(np.int64),
        bounds=data[:, 15:17].astype(np.float64),
    )


def write_poses_bounds(path: str | Path, poses: LLFFPoses) -> None:
    """Inverse of `read_poses_bounds` (focal from K[0, 0]; LLFF has one focal and a centred principal point)."""
    c2w_llff = opencv_to_llff(poses.c2w)
    hwf = np.stack([poses.height, poses.width, poses.K[:, 0, 0]], axis=-1).astype(np.float64)
    mats = np.concatenate([c2w_llff[:, :3, :4], hwf[:, :, None]], axis=2)
    np.save(path, np.concatenate([mats.reshape(-1, 15), poses.bounds], axis=1))


def downscaled_folders(capture: Path) -> dict[int, Path]:
    """`{N: folder}` for the `images_N/` folders of an LLFF capture (`images/` counts as N = 1)."""
    found = {}
    for child in capture.iterdir():
        match = _DOWNSCALED.match(child.name)
        if child.is_dir() and match:
            found[int(match.group(1))] = child
    if (capture / "images").is_dir():
        found[1] = capture / "images"
    return found

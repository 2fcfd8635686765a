"""instant-ngp / nerfstudio `transforms.json`: OpenGL axes, per-frame or shared intrinsics.

Read into OpenCV cameras on the way in, written from them on the way out, so the format's
conventions never leak into the rest of the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inpaint3d_core.cameras import opencv_to_opengl, opengl_to_opencv
from inpaint3d_core.errors import InputError

_DIST_KEYS = ("k1", "k2", "p1", "p2", "k3", "k4")


@dataclass
class TransformsFrame:
    file_path: str
    K: np.ndarray  # (3, 3)
    c2w: np.ndarray  # (4, 4) OpenCV
    width: int
    height: int
    distortion: dict[str, float]


def _intrinsics(src: dict, fallback: dict, where: str) -> tuple[np.ndarray, int, int, dict[str, float]]:
    def get(key):
        return src.get(key, fallback.get(key))

    w, h = get("w"), get("h")
    fx, fy = get("fl_x"), get("fl_y")
    if fx is None and get("camera_angle_x") is not None and w is not None:
        fx = 0.5 * float(w) / np.tan(0.5 * float(get("camera_angle_x")))
    if fy is None:
        fy = fx
    if fx is None or w is None or h is None:
        raise InputError(f"{where}: needs w, h and fl_x (or camera_angle_x)")
    cx = get("cx") if get("cx") is not None else float(w) / 2
    cy = get("cy") if get("cy") is not None else float(h) / 2
    K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float64)
    dist = {k: float(get(k)) for k in _DIST_KEYS if get(k) is not None}
    return K, int(w), int(h), dist


def read_transforms(path: str | Path) -> list[TransformsFrame]:
    path = Path(path)
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable transforms.json ({exc})") from exc
    frames = []
    for i, fr in enumerate(meta.get("frames", [])):
        K, w, h, dist = _intrinsics(fr, meta, f"{path} frame {i}")
        c2w = opengl_to_opencv(np.asarray(fr["transform_matrix"], dtype=np.float64))
        frames.append(TransformsFrame(fr["file_path"], K, c2w, w, h, dist))
    if not frames:
        raise InputError(f"{path}: has no frames")
    return frames


def write_transforms(path: str | Path, frames: list[TransformsFrame]) -> None:
    """Per-frame intrinsics (views may differ in size), OpenGL poses."""
    out = {"frames": []}
    for fr in frames:
        item = {
            "file_path": fr.file_path,
            "w": int(fr.width),
            "h": int(fr.height),
            "fl_x": float(fr.K[0, 0]),
            "fl_y": float(fr.K[1, 1]),
            "cx": float(fr.K[0, 2]),
            "cy": float(fr.K[1, 2]),
            "transform_matrix": opencv_to_opengl(fr.c2w).tolist(),
        }
        item.update(fr.distortion)
        out["frames"].append(item)
    Path(path).write_text(json.dumps(out, indent=2))

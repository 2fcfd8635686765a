"""A scene store's views as a nerfstudio dataset folder that `ns-train nerfacto --data DIR` reads.

Why its own writer (not `transforms_json.write_transforms`): nerfstudio trains on the files the
JSON names, so the images must be the ones the cameras describe. The store's images are already
oriented, undistorted (when the poses stage undistorted them) and downscaled, and its K is for
that size; they are written as PNG next to the JSON, which therefore says `camera_model: OPENCV`
with zero distortion and `w`/`h` equal to every file's size. Layout (nerfstudio's documented
keys, https://docs.nerf.studio/quickstart/data_conventions.html)::

    DIR/transforms.json   camera_model, frames[]: file_path, mask_path, fl_x, fl_y, cx, cy, w, h,
                          transform_matrix (camera-to-world, OpenGL axes, capture coordinates)
    DIR/images/<view>.png
    DIR/masks/<view>.png  nerfstudio's mask convention: 0 = ignore the pixel (the region
                          inpaint3d generates), 255 = train on it

Poses are in the capture's own coordinates (inpaint3d's normalisation undone), like the COLMAP
and transforms exports, so the three agree with each other and with the input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from inpaint3d_core.cameras import opencv_to_opengl
from inpaint3d_core.io.images import write_image
from inpaint3d_core.scene import PosedViews

TRANSFORMS_NAME = "transforms.json"
CAMERA_MODEL = "OPENCV"  # pinhole with k1, k2, p1, p2 (all zero here: the images are undistorted)


def _frame(views: PosedViews, i: int, c2w: np.ndarray, image: str, mask: str | None) -> dict:
    K = views.cameras.K[i]
    frame = {
        "file_path": image,
        "fl_x": float(K[0, 0]),
        "fl_y": float(K[1, 1]),
        "cx": float(K[0, 2]),
        "cy": float(K[1, 2]),
        "w": int(views.cameras.width[i]),
        "h": int(views.cameras.height[i]),
        "k1": 0.0,
        "k2": 0.0,
        "p1": 0.0,
        "p2": 0.0,
        "transform_matrix": opencv_to_opengl(c2w).tolist(),
    }
    if mask is not None:
        frame["mask_path"] = mask
    return frame


def write_nerfstudio_dataset(
    out: Path,
    views: PosedViews,
    indices: Sequence[int],
    image_of: Callable[[int], np.ndarray],
    masks: Sequence[np.ndarray] | None = None,
    description: str = "",
) -> Path:
    """Write `out/transforms.json`, `out/images/` and (with `masks`) `out/masks/`; returns the JSON's path.

    indices: the views to export (registered ones); image_of(i): view i's uint8 RGB image at the
    stored size (the captured image, or a render at that camera); masks: per view (all views,
    indexed like `views`), True where the region to ignore is.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "images").mkdir(exist_ok=True)
    if masks is not None:
        (out / "masks").mkdir(exist_ok=True)
    c2w = views.normalization.invert_c2w(views.cameras.c2w)
    frames = []
    for i in indices:
        name = views.views[i].name
        image = image_of(i)
        expected = (int(views.cameras.height[i]), int(views.cameras.width[i]))
        if image.shape[:2] != expected:
            raise ValueError(f"view {name}: image is {image.shape[:2]} but its camera is {expected} (h, w)")
        write_image(out / "images" / f"{name}.png", image)
        mask_path = None
        if masks is not None:
            mask_path = f"masks/{name}.png"
            keep = np.where(np.asarray(masks[i]) > 0, 0, 255).astype(np.uint8)
            write_image(out / mask_path, keep)
        frames.append(_frame(views, i, c2w[i], f"images/{name}.png", mask_path))
    meta = {"camera_model": CAMERA_MODEL, "frames": frames}
    if description:
        meta["inpaint3d"] = description  # nerfstudio ignores keys it does not know
    path = out / TRANSFORMS_NAME
    path.write_text(json.dumps(meta, indent=2))
    return path

"""Pictures and videos users look at: depth colour maps, mask overlays, side-by-sides, MP4, PNG.

Why in one place: the render stage, the exporters and the HTML report all show the same
things, and they must look the same everywhere (same colour map, same overlay colour).
Videos are H.264 MP4 (yuv420p, playable in browsers) written with imageio's ffmpeg plugin,
whose binary ships with imageio-ffmpeg.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import imageio.v2 as imageio_v2
import imageio.v3 as iio
import matplotlib
import numpy as np

from inpaint3d_core.errors import InputError

MASK_COLOUR = (255, 64, 160)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] (or uint8) image -> uint8."""
    arr = np.asarray(image)
    if arr.dtype == np.uint8:
        return arr
    return (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def colorize_depth(
    depth: np.ndarray,
    acc: np.ndarray | None = None,
    limits: tuple[float, float] | None = None,
    cmap: str = "turbo",
) -> np.ndarray:
    """(H, W) z-depth -> uint8 (H, W, 3) colour image of inverse depth (near = warm).

    Inverse depth spreads the colours over near content, where detail matters. `limits` (near,
    far) fixes the scale, so every frame of a video uses the same one; by default it is the
    1st-99th percentile of this image. Pixels with opacity `acc` < 0.5 or non-positive depth
    are black.
    """
    depth = np.asarray(depth, dtype=np.float64)
    valid = np.isfinite(depth) & (depth > 0)
    if acc is not None:
        valid &= np.asarray(acc) >= 0.5
    out = np.zeros((*depth.shape, 3), np.uint8)
    if not valid.any():
        return out
    near, far = limits if limits is not None else depth_limits([depth], [valid])
    inv = 1.0 / np.clip(depth[valid], near, far)
    lo, hi = 1.0 / far, 1.0 / near
    scaled = (inv - lo) / max(hi - lo, 1e-12)
    out[valid] = to_uint8(matplotlib.colormaps[cmap](scaled)[:, :3])
    return out


def depth_limits(depths: Sequence[np.ndarray], valid: Sequence[np.ndarray] | None = None) -> tuple[float, float]:
    """Robust (near, far) over several depth maps: 1st and 99th percentiles of valid pixels."""
    values = []
    for i, depth in enumerate(depths):
        ok = np.isfinite(depth) & (depth > 0)
        if valid is not None:
            ok &= valid[i]
        values.append(np.asarray(depth)[ok].ravel())
    flat = np.concatenate(values) if values else np.zeros(0)
    if flat.size == 0:
        return 1.0, 2.0
    near, far = np.percentile(flat, [1, 99])
    return float(near), float(max(far, near * (1 + 1e-6) + 1e-9))


def overlay_mask(image: np.ndarray, mask: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Tint the mask region and outline it, so a user sees exactly which pixels were generated."""
    image = to_uint8(image)
    hole = np.asarray(mask) > 0
    out = image.astype(np.float32)
    out[hole] = (1 - alpha) * out[hole] + alpha * np.array(MASK_COLOUR, np.float32)
    out = out.astype(np.uint8)
    contours, _ = cv2.findContours(hole.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, MASK_COLOUR, 1)
    return out


def side_by_side(images: Sequence[np.ndarray], labels: Sequence[str] | None = None, gap: int = 2) -> np.ndarray:
    """Images of one height placed left to right with a white gap, each optionally labelled."""
    images = [to_uint8(im).copy() for im in images]
    height = images[0].shape[0]
    if any(im.shape[0] != height for im in images):
        raise InputError("side_by_side: all images must have the same height")
    if labels is not None:
        scale = max(0.3, height / 400)
        for im, text in zip(images, labels, strict=True):
            org = (4, int(14 * scale / 0.5))
            cv2.putText(im, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(im, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    spacer = np.full((height, gap, 3), 255, np.uint8)
    parts = []
    for i, im in enumerate(images):
        parts.extend([spacer, im] if i else [im])
    return np.concatenate(parts, axis=1)


def _even(frame: np.ndarray) -> np.ndarray:
    """yuv420p needs even sides: pad one edge row/column where needed."""
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def encode_mp4(frames: Sequence[np.ndarray], fps: float = 24.0, quality: float = 8.0) -> bytes:
    """H.264 MP4 of uint8 (H, W, 3) frames, as bytes (the store keeps videos as byte arrays)."""
    if len(frames) == 0:
        raise InputError("encode_mp4: no frames to encode")
    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        writer = imageio_v2.get_writer(
            path,
            format="FFMPEG",
            fps=fps,
            codec="libx264",
            quality=quality,
            pixelformat="yuv420p",
            macro_block_size=1,
        )
        with writer:
            for frame in frames:
                writer.append_data(_even(to_uint8(frame)))
        return Path(path).read_bytes()
    finally:
        os.unlink(path)


def decode_mp4(payload: bytes) -> list[np.ndarray]:
    """All frames of an MP4 given as bytes (for checks and previews)."""
    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        Path(path).write_bytes(payload)
        with imageio_v2.get_reader(path, format="FFMPEG") as reader:
            return [np.asarray(frame) for frame in reader]
    finally:
        os.unlink(path)


def encode_png(image: np.ndarray) -> bytes:
    return iio.imwrite("<bytes>", to_uint8(image), extension=".png")


def write_png_frames(frames: Sequence[np.ndarray], folder: Path, prefix: str = "frame") -> list[Path]:
    """frames as `<folder>/<prefix>_00000.png`, ... (lossless, for editing tools)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        path = folder / f"{prefix}_{i:05d}.png"
        iio.imwrite(path, to_uint8(frame))
        paths.append(path)
    return paths

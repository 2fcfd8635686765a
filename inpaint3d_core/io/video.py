"""Frames from a phone video: the sharpest frame of each time window, near-duplicates dropped.

Why: a video holds hundreds of overlapping, often motion-blurred frames; structure from motion
and the NeRF want a few dozen sharp, distinct views. Splitting the video into equal windows and
keeping the frame with the highest variance of the Laplacian (a standard focus measure) in each
gives even coverage with the least blur; a frame that looks almost the same as the previous
kept one (the camera paused) adds nothing and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np
from tqdm import tqdm

from inpaint3d_core.errors import InputError

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"})
_THUMB = 64  # side of the grey thumbnails compared for duplicates


@dataclass(frozen=True)
class VideoFrame:
    index: int  # frame number in the video
    pixels: np.ndarray  # (H, W, 3) uint8 RGB, as decoded (ffmpeg applies the rotation metadata)
    sharpness: float  # variance of the Laplacian of the grey frame


def is_video_file(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def sharpness(pixels: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image: high when edges are crisp."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def _thumbnail(pixels: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def count_frames(path: Path) -> int:
    """Frame count from the container's duration and rate (exact counting would decode it all)."""
    try:
        meta = iio.immeta(path, plugin="FFMPEG")
    except Exception as exc:  # ffmpeg raises several types for missing/corrupt containers
        raise InputError(f"{path}: cannot open the video ({exc}); is it a complete MP4/MOV file?") from exc
    frames = meta.get("duration", 0.0) * meta.get("fps", 0.0)
    if not np.isfinite(frames) or frames < 1:
        raise InputError(f"{path}: the video reports no frames (duration {meta.get('duration')} s)")
    return int(round(frames))


def select_frames(path: str | Path, n_frames: int, duplicate_threshold: float = 0.01) -> list[VideoFrame]:
    """About `n_frames` frames: the sharpest of each of `n_frames` equal windows, without near-duplicates.

    duplicate_threshold: mean absolute difference (0..1) of 64x64 grey thumbnails under which a
    frame counts as a duplicate of the previous kept one.
    """
    path = Path(path)
    if n_frames < 1:
        raise InputError(f"video frame count must be at least 1 (got {n_frames})")
    total = count_frames(path)
    window = max(1, total // n_frames)
    kept: list[VideoFrame] = []
    best: VideoFrame | None = None
    last_thumb: np.ndarray | None = None

    def flush() -> None:
        nonlocal best, last_thumb
        if best is None:
            return
        thumb = _thumbnail(best.pixels)
        if last_thumb is None or float(np.abs(thumb - last_thumb).mean()) >= duplicate_threshold:
            kept.append(best)
            last_thumb = thumb
        best = None

    try:
        frames = iio.imiter(path, plugin="FFMPEG")
        for index, pixels in enumerate(tqdm(frames, total=total, desc=f"frames of {path.name}", unit="frame")):
            if index and index % window == 0:
                flush()
            score = sharpness(pixels)
            if best is None or score > best.sharpness:
                best = VideoFrame(index=index, pixels=np.asarray(pixels), sharpness=score)
    except OSError as exc:
        raise InputError(f"{path}: decoding failed at a frame ({exc}); the file may be truncated") from exc
    flush()
    if not kept:
        raise InputError(f"{path}: no frame could be decoded")
    return kept

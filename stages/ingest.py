"""Ingest stage: a capture (photo folder, video, LLFF / SPIn-NeRF / synthetic folder) into the store.

Writes `ingest/images/<i>` (upright RGB, optionally downscaled, every view its own size),
`ingest/gt_images/<i>`, `ingest/gt_masks/<i>` and `ingest/gt_unseen/<i>` where the capture has
ground truth (the last: which part of a test view's mask no training view saw), and the
attributes `views`, `capture`, `skipped` (see `inpaint3d_core.scene`), plus `layout`,
`pose_sources` (pose files found in the capture, for the poses stage), `image_files` and, for a
video, `video`. The pose files and the capture's own mask folders are copied into
`ingest/capture_files/`, so the poses and masks stages never read the capture folder: a store
stays usable when the capture is moved or deleted.
Views keep their order: sorted file names (the order LLFF's poses_bounds rows follow) or frame
order. The fingerprint covers the capture's contents (`capture_inputs`: every file ingest reads,
by relative path, size and content hash), so photos added, removed or replaced under the same
path are ingested again; hashes rather than modification times, so a capture copied from an
fsspec inbox (new times, same bytes) stays cached.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from tqdm import tqdm

from inpaint3d_core.errors import InputError
from inpaint3d_core.io.capture import Capture, detect_capture, list_files
from inpaint3d_core.io.images import (
    UnreadableImageError,
    decode_image,
    fit_max_side,
    is_image_file,
    read_mask,
    resize,
)
from inpaint3d_core.io.video import select_frames
from inpaint3d_core.masks.imported import capture_mask_folders
from inpaint3d_core.scene import INGEST, write_capture_files
from inpaint3d_core.stage import StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import SceneStore, view_key
from stages.configs.ingest import QUICK_MAX_SIDE, Config


def capture_files(capture: Capture) -> list[Path]:
    """Every file ingest reads from a capture (the poses and masks stages read copies of some)."""
    if capture.video is not None:
        files = [capture.video]
    else:
        folders = (
            capture.image_dir,
            capture.gt_image_dir,
            capture.gt_mask_dir,
            capture.label_dir,
            capture.test_label_dir,
            capture.test_unseen_dir,
        )
        files = [p for folder in folders if folder is not None for p in list_files(folder)]
    return sorted(set(files + copied_files(capture)))


def copied_files(capture: Capture) -> list[Path]:
    """The capture files later stages read, copied into the store (`capture_files`, see
    `inpaint3d_core.scene`): its pose files and its own mask folders."""
    files: list[Path] = []
    for source in capture.pose_sources.values():
        files += sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    for folder in capture_mask_folders(capture.root):
        files += list_files(folder)
    return sorted(set(files))


def capture_inputs(config: dict[str, Any]) -> dict[str, str]:
    """The capture's content fingerprint, an external input of the ingest stage (none for a record
    written by another ingest, e.g. the synthetic scenes' `write_store`, whose config has no capture)."""
    if not config.get("capture"):
        return {}
    capture = detect_capture(config["capture"], config.get("layout", "auto"), config.get("llff_factor"))
    digest = hashlib.sha256()
    for path in capture_files(capture):
        with path.open("rb") as handle:
            content = hashlib.file_digest(handle, "sha256").hexdigest()
        digest.update(f"{capture.relative(path)}\0{path.stat().st_size}\0{content}\n".encode())
    return {"capture": digest.hexdigest()[:16]}


SPEC = StageSpec(
    name=INGEST,
    schema_version=1,
    code_version=3,  # 2: gt_unseen (the unseen part of SPIn-NeRF-shaped test masks); 3: copies the pose files
    # and mask folders into the store
    packages=("pillow", "pillow-heif", "imageio-ffmpeg"),
    external_inputs=capture_inputs,
)


class CaptureSkipWarning(UserWarning):
    """Some files of a capture could not be used; they are listed in `ingest.attrs['skipped']`."""


def run(store: SceneStore, config: Config, force: bool = False) -> StageResult:
    return run_stage(store, SPEC, config, lambda ctx: _compute(ctx, config), force=force)


def _write(group: zarr.Group, key: str, index: int, pixels: np.ndarray) -> None:
    group.require_group(key).create_array(
        view_key(index), data=np.ascontiguousarray(pixels), chunks=pixels.shape, overwrite=True
    )


def _by_stem(folder: Path | None) -> dict[str, Path]:
    if folder is None:
        return {}
    return {p.stem: p for p in list_files(folder) if is_image_file(p)}


def _compute(ctx: StageContext, config: Config) -> dict[str, Any]:
    capture = detect_capture(config.capture, config.layout, config.llff_factor)
    if config.protocol == "spinnerf" and capture.layout != "llff":
        raise InputError(
            f"{capture.root}: the SPIn-NeRF protocol needs an LLFF capture (poses_bounds.npy + images_N/), "
            f"but the layout is '{capture.layout}'"
        )
    group = ctx.group
    if capture.layout == "video":
        views, skipped = _ingest_video(group, capture, config)
    else:
        views, skipped = _ingest_photos(group, capture, config)
    if len(views) < config.min_views:
        listed = "; ".join(f"{s['file']}: {s['reason']}" for s in skipped[:10])
        raise InputError(
            f"{config.capture}: only {len(views)} usable view(s), at least {config.min_views} needed"
            + (f" (skipped: {listed})" if listed else "")
            + "; add photos or lower min_views"
        )
    for key in ("images", "gt_images", "gt_masks", "gt_unseen"):
        if key in set(group.group_keys()):
            group[key].attrs["count"] = len(views)
    if skipped:
        warnings.warn(
            f"{config.capture}: skipped {len(skipped)} file(s): "
            + "; ".join(f"{s['file']} ({s['reason']})" for s in skipped),
            CaptureSkipWarning,
            stacklevel=2,
        )
    write_capture_files(group, capture.root, copied_files(capture))
    image_files = list_files(capture.image_dir) if capture.image_dir is not None else []
    group.attrs.update(
        {
            "views": views,
            "capture": str(capture.root),
            "skipped": skipped,
            "layout": capture.layout,
            "pose_sources": {k: capture.relative(v) for k, v in capture.pose_sources.items()},
            "image_files": [capture.relative(p) for p in image_files if is_image_file(p)],
            **({"video": str(capture.video)} if capture.video else {}),
        }
    )
    shrunk = config.max_side is None and config.effective_max_side is not None and any(v["scale"] < 1 for v in views)
    if shrunk:
        warnings.warn(
            f"{config.capture}: preset quick works at {QUICK_MAX_SIDE} px on the longer side, so the views were "
            f"downscaled (set ingest.max_side to choose another size, or use --preset full on a GPU)",
            stacklevel=2,
        )
    return {
        "views": len(views),
        **({"downscaled_to": f"{QUICK_MAX_SIDE} px longer side (preset quick)"} if shrunk else {}),
        "skipped": len(skipped),
        "layout": capture.layout,
        "test_views": sum(v["role"] == "test" for v in views),
        "pose_sources": sorted(capture.pose_sources),
    }


def _ingest_photos(group: zarr.Group, capture: Capture, config: Config) -> tuple[list[dict], list[dict]]:
    files = list_files(capture.image_dir)
    skipped = [
        {"file": capture.relative(p), "reason": f"not an image file ({p.suffix or 'no extension'})"}
        for p in files
        if not is_image_file(p)
    ]
    images = [p for p in files if is_image_file(p)]
    gt_images = _by_stem(capture.gt_image_dir)
    gt_masks = _by_stem(capture.gt_mask_dir if config.protocol == "none" else capture.test_label_dir)
    gt_unseen = _by_stem(capture.test_unseen_dir) if config.protocol == "spinnerf" else {}
    views: list[dict] = []
    for order, path in enumerate(tqdm(images, desc="ingest", unit="image")):
        try:
            decoded = decode_image(path, config.apply_exif)
        except UnreadableImageError as exc:
            skipped.append({"file": capture.relative(path), "reason": str(exc)})
            continue
        width, height, scale = fit_max_side(*decoded.source_size, config.effective_max_side)
        index = len(views)
        _write(group, "images", index, resize(decoded.pixels, width, height))
        role = "test" if config.protocol == "spinnerf" and order < config.n_gt else "train"
        gt_path = gt_images.get(path.stem)
        if role == "test":
            _write(group, "gt_images", index, resize(decoded.pixels, width, height))
        elif gt_path is not None:
            _write(group, "gt_images", index, _read_gt(gt_path, width, height, capture))
        if path.stem in gt_masks and (config.protocol == "none" or role == "test"):
            _write(group, "gt_masks", index, _read_gt_mask(gt_masks[path.stem], width, height, capture))
        if role == "test" and path.stem in gt_unseen:
            _write(group, "gt_unseen", index, _read_gt_mask(gt_unseen[path.stem], width, height, capture))
        views.append(
            {
                "name": path.stem,
                "source": capture.relative(path),
                "width": width,
                "height": height,
                "scale": scale,
                "role": role,
                "orientation": decoded.orientation,
            }
        )
    return views, skipped


def _read_gt(path: Path, width: int, height: int, capture: Capture) -> np.ndarray:
    try:
        return resize(decode_image(path).pixels, width, height)
    except UnreadableImageError as exc:
        raise InputError(f"{capture.relative(path)}: ground-truth image unreadable ({exc})") from exc


def _read_gt_mask(path: Path, width: int, height: int, capture: Capture) -> np.ndarray:
    try:
        return read_mask(path, width, height)
    except UnreadableImageError as exc:
        raise InputError(f"{capture.relative(path)}: ground-truth mask unreadable ({exc})") from exc


def _ingest_video(group: zarr.Group, capture: Capture, config: Config) -> tuple[list[dict], list[dict]]:
    frames = select_frames(capture.video, config.video_frames, config.duplicate_threshold)
    views = []
    for index, frame in enumerate(frames):
        height, width = frame.pixels.shape[:2]
        new_w, new_h, scale = fit_max_side(width, height, config.effective_max_side)
        _write(group, "images", index, resize(frame.pixels, new_w, new_h))
        views.append(
            {
                "name": f"frame_{frame.index:05d}",
                "source": f"{capture.relative(capture.video)}#frame={frame.index}",
                "width": new_w,
                "height": new_h,
                "scale": scale,
                "role": "train",
                "orientation": 1,
            }
        )
    return views, []

"""Known poses from a capture's pose file, matched to the ingested views and rescaled to them.

A pose file describes images at some resolution (COLMAP's cameras, transforms.json's w/h,
LLFF's full-resolution hwf); the ingested views may be a downscaled folder (`images_N/`) or
resized by ingest. Intrinsics are therefore rescaled per view by (stored size / pose-file
size) in x and y, which covers both the ingest scale and the image-vs-pose-file resolution.

EXIF orientation: ingest turns photos upright. A pose file computed on the unrotated pixels
(COLMAP and most tools ignore EXIF) then describes a transposed image; this is detected (the
aspect ratio flips) and reported with the fix (ingest with `apply_exif` off), never guessed.

Views are matched by file stem (COLMAP image names, transforms.json file paths) or, for LLFF,
by position among the sorted image files of the views' folder (the order poses_bounds rows
follow, including files ingest had to skip). Views with no entry stay unregistered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inpaint3d_core.cameras import scale_intrinsics
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.colmap_model import N_DIST, SparseCloud, read_model
from inpaint3d_core.io.images import TRANSPOSING_ORIENTATIONS
from inpaint3d_core.io.llff import read_poses_bounds
from inpaint3d_core.io.transforms_json import read_transforms

_DIST_ORDER = ("k1", "k2", "p1", "p2", "k3")
_ASPECT_TOLERANCE = 0.02


@dataclass
class ViewCameras:
    """Cameras for every ingested view in the capture's own world (before normalisation)."""

    registered: np.ndarray  # (N,) bool
    K: np.ndarray  # (N, 3, 3) at the stored image size
    distortion: np.ndarray  # (N, 8) OpenCV coefficients
    c2w: np.ndarray  # (N, 4, 4) OpenCV axes
    points: SparseCloud | None  # tracks index the ingested views


@dataclass(frozen=True)
class PoseEntry:
    K: np.ndarray
    distortion: np.ndarray
    c2w: np.ndarray
    width: int
    height: int


def _rescaled_K(entry: PoseEntry, view: dict, source: str) -> np.ndarray:
    w, h = int(view["width"]), int(view["height"])
    if abs(w / h - entry.width / entry.height) > _ASPECT_TOLERANCE * (w / h):
        hint = (
            " The photo carries an EXIF rotation and the poses were made on the unrotated pixels: "
            "re-run ingest with apply_exif off (`inpaint3d ingest --no-exif`)."
            if int(view.get("orientation", 1)) in TRANSPOSING_ORIENTATIONS
            else " Check that the pose file belongs to these images."
        )
        raise InputError(
            f"view {view['name']}: stored image is {w}x{h} but {source} describes it as "
            f"{entry.width}x{entry.height} (different aspect ratio).{hint}"
        )
    return scale_intrinsics(entry.K, w / entry.width, h / entry.height)


def _assemble(entries: Sequence[PoseEntry | None], views: Sequence[dict], source: str) -> ViewCameras:
    n = len(views)
    registered = np.array([e is not None for e in entries], dtype=bool)
    if not registered.any():
        raise InputError(f"{source}: none of the {n} ingested views has an entry (matched by file name)")
    K = np.zeros((n, 3, 3))
    distortion = np.zeros((n, N_DIST))
    c2w = np.tile(np.eye(4), (n, 1, 1))
    for i, (entry, view) in enumerate(zip(entries, views, strict=True)):
        if entry is not None:
            K[i] = _rescaled_K(entry, view, source)
            distortion[i] = entry.distortion
            c2w[i] = entry.c2w
    reference = K[np.argmax(registered)]
    for i in np.flatnonzero(~registered):  # a plausible K for views without poses (never used for rays)
        K[i] = reference
    return ViewCameras(registered=registered, K=K, distortion=distortion, c2w=c2w, points=None)


def import_colmap(folder: Path, views: Sequence[dict]) -> ViewCameras:
    cameras, cloud = read_model(folder)
    by_stem = {Path(name).stem: i for i, name in enumerate(cameras.names)}
    entries, model_to_view = [], {}
    for v, view in enumerate(views):
        i = by_stem.get(view["name"])
        if i is None:
            entries.append(None)
            continue
        model_to_view[i] = v
        entries.append(
            PoseEntry(cameras.K[i], cameras.distortion[i], cameras.c2w[i], cameras.width[i], cameras.height[i])
        )
    result = _assemble(entries, views, str(folder))
    tracks = [[model_to_view[t] for t in track if t in model_to_view] for track in cloud.tracks()]
    keep = [i for i, t in enumerate(tracks) if t]
    result.points = SparseCloud.from_tracks(cloud.xyz[keep], cloud.rgb[keep], [sorted(tracks[i]) for i in keep])
    return result


def import_transforms(path: Path, views: Sequence[dict]) -> ViewCameras:
    frames = read_transforms(path)
    by_stem = {Path(fr.file_path).stem: fr for fr in frames}
    entries = []
    for view in views:
        fr = by_stem.get(view["name"])
        if fr is None:
            entries.append(None)
            continue
        unknown = set(fr.distortion) - set(_DIST_ORDER)
        if any(fr.distortion[k] for k in unknown):
            raise InputError(f"{path}: frame {fr.file_path} uses distortion terms {sorted(unknown)} (fisheye?)")
        dist = np.zeros(N_DIST)
        dist[:5] = [fr.distortion.get(k, 0.0) for k in _DIST_ORDER]
        entries.append(PoseEntry(fr.K, dist, fr.c2w, fr.width, fr.height))
    return _assemble(entries, views, str(path))


def import_llff(path: Path, views: Sequence[dict], image_files: Sequence[str]) -> ViewCameras:
    """LLFF poses: one row per image file of the views' folder in sorted name order (`image_files`,
    unreadable images included, as ingest recorded them)."""
    poses = read_poses_bounds(path)
    if len(image_files) != len(poses.c2w):
        raise InputError(
            f"{path.name}: {len(poses.c2w)} pose rows but {len(image_files)} images in the capture's image folder; "
            "LLFF needs one row per image in sorted name order"
        )
    row_of = {Path(f).stem: i for i, f in enumerate(image_files)}
    entries = []
    for view in views:
        r = row_of[view["name"]]
        entries.append(PoseEntry(poses.K[r], np.zeros(N_DIST), poses.c2w[r], poses.width[r], poses.height[r]))
    return _assemble(entries, views, str(path))

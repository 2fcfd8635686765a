"""Typed read access to what the upstream stages stored, so downstream code never hard-codes paths.

Store layout (the contract between stages; arrays per view live under `<key>/<00000>`):

ingest/
  images/<i>        uint8 (H, W, 3), EXIF-oriented, optionally downscaled
  gt_images/<i>     uint8 (H, W, 3) ground truth without the object, where the capture has it
  gt_masks/<i>      uint8 (H, W) ground-truth region masks (synthetic scenes, SPIn-NeRF test_label)
  gt_unseen/<i>     uint8 (H, W) the part of gt_masks no training view saw (SPIn-NeRF-shaped
                    synthetic captures' test_unseen), where the capture has it
  capture_files/<i> uint8 bytes of the capture's pose files and own mask folders (attrs paths:
                    each file's path relative to the capture), so no later stage reads the capture
  attrs: views = [{name, source, width, height, scale, role}], role in {"train", "test"};
         capture = capture folder path; skipped = [{file, reason}]; image_files = every image
         file of the views' folder, relative, sorted (LLFF's pose rows follow it)
poses/
  K (N,3,3) f64, c2w (N,4,4) f64 (OpenCV, normalised scene), registered (N,) bool,
  near_far (N,2) f32
  images/<i>        present only if the poses stage undistorted the images (then preferred)
  points/xyz (P,3) f32 normalised, points/rgb (P,3) u8,
  points/track_views (T,) i32 + points/track_offsets (P+1,) i64 (views seeing each point)
  attrs: normalization = {center, scale}, method, camera_model
masks/
  raw/<i>, dilated/<i>  uint8 (H, W), 1 = region to generate
  attrs: method, area = [fraction per view]
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

from inpaint3d_core.cameras import Cameras, Normalization
from inpaint3d_core.errors import InputError
from inpaint3d_core.store import SceneStore, read_bytes, read_view, view_key, write_bytes

INGEST, POSES, MASKS = "ingest", "poses", "masks"
CAPTURE_FILES = "capture_files"


@dataclass
class ViewInfo:
    name: str
    source: str
    width: int
    height: int
    role: str = "train"


@dataclass
class SparsePoints:
    xyz: np.ndarray
    rgb: np.ndarray
    track_views: np.ndarray
    track_offsets: np.ndarray

    def views_of(self, point: int) -> np.ndarray:
        return self.track_views[self.track_offsets[point] : self.track_offsets[point + 1]]


@dataclass
class PosedViews:
    """All ingested views with their cameras; `registered` says which have a valid pose."""

    views: list[ViewInfo]
    cameras: Cameras
    registered: np.ndarray
    near_far: np.ndarray
    normalization: Normalization
    _image_group: zarr.Group
    _ingest: zarr.Group

    def __len__(self) -> int:
        return len(self.views)

    def image(self, i: int) -> np.ndarray:
        return read_view(self._image_group, "images", i)

    def gt_image(self, i: int) -> np.ndarray | None:
        return _optional_view(self._ingest, "gt_images", i)

    def gt_mask(self, i: int) -> np.ndarray | None:
        return _optional_view(self._ingest, "gt_masks", i)

    def gt_unseen(self, i: int) -> np.ndarray | None:
        return _optional_view(self._ingest, "gt_unseen", i)

    def indices(self, role: str | None = "train") -> np.ndarray:
        """Registered views with the given role (None = any role)."""
        return np.array(
            [i for i, v in enumerate(self.views) if self.registered[i] and (role is None or v.role == role)],
            dtype=np.int64,
        )


def _optional_view(group: zarr.Group, key: str, i: int) -> np.ndarray | None:
    if key not in set(group.group_keys()):
        return None
    sub = group[key]
    name = f"{i:05d}"
    return np.asarray(sub[name][...]) if name in set(sub.array_keys()) else None


def read_view_infos(store: SceneStore) -> list[ViewInfo]:
    ingest = store.read(INGEST)
    return [
        ViewInfo(v["name"], v["source"], int(v["width"]), int(v["height"]), v.get("role", "train"))
        for v in ingest.attrs["views"]
    ]


def load_posed_views(store: SceneStore) -> PosedViews:
    ingest = store.read(INGEST)
    poses = store.read(POSES)
    infos = read_view_infos(store)
    cameras = Cameras(
        K=np.asarray(poses["K"][...]),
        c2w=np.asarray(poses["c2w"][...]),
        width=np.array([v.width for v in infos]),
        height=np.array([v.height for v in infos]),
    )
    image_group = poses if "images" in set(poses.group_keys()) else ingest
    return PosedViews(
        views=infos,
        cameras=cameras,
        registered=np.asarray(poses["registered"][...]).astype(bool),
        near_far=np.asarray(poses["near_far"][...]),
        normalization=Normalization.from_dict(poses.attrs["normalization"]),
        _image_group=image_group,
        _ingest=ingest,
    )


def load_sparse_points(store: SceneStore) -> SparsePoints:
    pts = store.read(POSES)["points"]
    return SparsePoints(
        xyz=np.asarray(pts["xyz"][...]),
        rgb=np.asarray(pts["rgb"][...]),
        track_views=np.asarray(pts["track_views"][...]),
        track_offsets=np.asarray(pts["track_offsets"][...]),
    )


def load_masks(store: SceneStore, dilated: bool = True) -> list[np.ndarray]:
    group = store.read(MASKS)
    key = "dilated" if dilated else "raw"
    return [read_view(group, key, i) for i in range(int(group[key].attrs["count"]))]


def write_capture_files(group: zarr.Group, root: Path, files: list[Path]) -> None:
    """Copy `files` (inside the capture folder `root`) into the ingest group being written."""
    sub = group.require_group(CAPTURE_FILES)
    for i, path in enumerate(files):
        write_bytes(sub, view_key(i), path.read_bytes())
    sub.attrs.update({"count": len(files), "paths": [path.relative_to(root).as_posix() for path in files]})


@dataclass(frozen=True)
class CaptureCopy:
    """The capture files ingest copied into the store, written out under `root` for importers
    that read folders; `capture` is where the capture was when it was ingested."""

    root: Path
    capture: str

    def name(self, path: str | Path) -> str:
        """How a path inside the copy is named to the user: by its place in the original capture."""
        return str(path).replace(str(self.root), self.capture)


@contextmanager
def capture_copy(store: SceneStore) -> Iterator[CaptureCopy]:
    """A temporary folder holding the capture files ingest copied into the store, at their paths
    relative to the capture (empty when ingest copied none), so pose and mask importers work while
    the capture itself may be moved or deleted. Input errors raised inside name the original files."""
    ingest = store.read(INGEST)
    with tempfile.TemporaryDirectory(prefix="inpaint3d-capture-copy-") as tmp:
        copy = CaptureCopy(Path(tmp), str(ingest.attrs.get("capture", "the capture")))
        if CAPTURE_FILES in set(ingest.group_keys()):
            sub = ingest[CAPTURE_FILES]
            for i, rel in enumerate(sub.attrs["paths"]):
                target = copy.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(read_bytes(sub, view_key(i)))
        try:
            yield copy
        except InputError as exc:
            raise InputError(copy.name(exc)) from exc

"""What a capture folder (or file) holds: where its views are, and which pose files come with it.

Recognised layouts (auto-detected; the ingest config can force one):
- `video`: a single MP4/MOV file (or a folder holding exactly one video and no images).
- `synthetic`: the project's synthetic capture: `images/`, `gt_images/` (same stems), `masks/`,
  optionally `transforms.json`.
- `llff`: `poses_bounds.npy` beside `images/` and/or `images_N/` folders; the smallest
  resolution folder is used unless a factor is chosen. SPIn-NeRF captures are LLFF captures
  with `images_N/label/` and `images_N/test_label/` (the protocol is an ingest option).
- `images`: photos in `images/` or directly in the folder.

Pose files found beside any layout are listed in `pose_sources` (transforms.json, a COLMAP
model folder, poses_bounds.npy); the poses stage imports one of them or estimates poses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from inpaint3d_core.errors import InputError
from inpaint3d_core.io.colmap_model import find_model_folder
from inpaint3d_core.io.images import is_image_file
from inpaint3d_core.io.llff import POSES_BOUNDS, downscaled_folders
from inpaint3d_core.io.video import is_video_file

Layout = Literal["images", "video", "synthetic", "llff"]
PoseFormat = Literal["transforms", "colmap", "llff"]
TRANSFORMS = "transforms.json"


@dataclass
class Capture:
    root: Path  # the capture folder (for a video: the folder holding it)
    layout: Layout
    image_dir: Path | None = None
    video: Path | None = None
    gt_image_dir: Path | None = None  # ground-truth images with the same stems as the views
    gt_mask_dir: Path | None = None  # ground-truth region masks with the same stems
    label_dir: Path | None = None  # SPIn-NeRF training-view object masks
    test_label_dir: Path | None = None  # SPIn-NeRF test-view masks
    test_unseen_dir: Path | None = None  # part of each test mask no training view saw (synthetic SPIn-NeRF shape)
    pose_sources: dict[str, Path] = field(default_factory=dict)  # format -> path inside the capture

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def list_files(folder: Path) -> list[Path]:
    """Plain, visible files of a folder in sorted name order (the order LLFF rows follow)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _has_images(folder: Path) -> bool:
    return folder.is_dir() and any(is_image_file(p) for p in list_files(folder))


def find_pose_sources(root: Path) -> dict[str, Path]:
    sources: dict[str, Path] = {}
    if (root / TRANSFORMS).is_file():
        sources["transforms"] = root / TRANSFORMS
    model = find_model_folder(root)
    if model is not None:
        sources["colmap"] = model
    if (root / POSES_BOUNDS).is_file():
        sources["llff"] = root / POSES_BOUNDS
    return sources


def _llff_image_dir(root: Path, factor: int | None) -> Path:
    folders = {n: f for n, f in downscaled_folders(root).items() if _has_images(f)}
    if not folders:
        raise InputError(f"{root}: LLFF capture without images/ or images_N/ folders holding images")
    if factor is None:
        return folders[max(folders)]  # the largest N is the smallest resolution
    if factor not in folders:
        raise InputError(
            f"{root}: no images_{factor}/ folder (LLFF factor option); present: "
            + ", ".join(sorted(f.name for f in folders.values()))
        )
    return folders[factor]


def detect_capture(
    path: str | Path, layout: Literal["auto"] | Layout = "auto", llff_factor: int | None = None
) -> Capture:
    """Describe the capture at `path`; `layout` forces one layout instead of detecting it."""
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise InputError(f"{path}: capture not found; pass a folder of photos, a video file or a posed capture folder")
    if path.is_file():
        if not is_video_file(path):
            raise InputError(f"{path}: a capture file must be a video (MP4/MOV); for photos pass their folder")
        return Capture(root=path.parent, layout="video", video=path)
    sources = find_pose_sources(path)
    if layout == "auto":
        layout = _detect_layout(path, sources)
    if layout == "video":
        videos = [p for p in list_files(path) if is_video_file(p)]
        if len(videos) != 1:
            raise InputError(f"{path}: layout 'video' needs exactly one video file in the folder, found {len(videos)}")
        return Capture(root=path, layout="video", video=videos[0], pose_sources=sources)
    if layout == "llff":
        image_dir = _llff_image_dir(path, llff_factor)
        return Capture(
            root=path,
            layout="llff",
            image_dir=image_dir,
            label_dir=_dir_or_none(image_dir / "label"),
            test_label_dir=_dir_or_none(image_dir / "test_label"),
            test_unseen_dir=_dir_or_none(image_dir / "test_unseen"),
            pose_sources=sources,
        )
    image_dir = path / "images" if _has_images(path / "images") else path
    if layout == "synthetic":
        if not (path / "gt_images").is_dir():
            raise InputError(f"{path}: layout 'synthetic' needs a gt_images/ folder beside images/")
        return Capture(
            root=path,
            layout="synthetic",
            image_dir=image_dir,
            gt_image_dir=path / "gt_images",
            gt_mask_dir=_dir_or_none(path / "masks"),
            pose_sources=sources,
        )
    return Capture(root=path, layout="images", image_dir=image_dir, pose_sources=sources)


def _dir_or_none(folder: Path) -> Path | None:
    return folder if folder.is_dir() else None


def _detect_layout(root: Path, sources: dict[str, Path]) -> Layout:
    if (root / "gt_images").is_dir() and _has_images(root / "images"):
        return "synthetic"
    if "llff" in sources and "transforms" not in sources and "colmap" not in sources:
        return "llff"
    if "llff" in sources and not _has_images(root / "images") and not _has_images(root):
        return "llff"  # poses_bounds.npy with only images_N/ folders
    if _has_images(root / "images") or _has_images(root):
        return "images"
    if any(is_video_file(p) for p in list_files(root)):
        return "video"
    raise InputError(f"{root}: no photos (images/ or in the folder), no images_N/ and no video found")

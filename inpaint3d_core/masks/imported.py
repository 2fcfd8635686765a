"""Masks drawn in another tool: a folder of images matched to views by file name.

Accepted names for a view whose source image is `IMG_1.JPG`: `IMG_1.<ext>`, `IMG_1_mask.<ext>`,
`IMG_1-mask.<ext>`, `IMG_1.JPG.png` (some tools append), in the folder itself or its LLFF /
SPIn-NeRF `label/` subfolder. Grey or colour images are thresholded (any channel); 0/1 images
work too. Masks a few pixels off the view's size (rounding in someone's resize) are cropped or
padded with a warning; a mask at another resolution with the same aspect ratio is resized;
a different aspect ratio is an error, because no resize can make it align.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np

from inpaint3d_core.errors import InputError

log = logging.getLogger(__name__)

MASK_SUFFIXES = ("", "_mask", "-mask", ".mask")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
SIZE_TOLERANCE_PX = 4
ASPECT_TOLERANCE = 0.01


@dataclass
class ImportedMasks:
    """masks: one uint8 0/1 (H, W) array per view (zeros where no file matched).

    matched: view index -> file used; missing: view indices without a file; notes: warnings."""

    masks: list[np.ndarray]
    matched: dict[int, str]
    missing: list[int]
    notes: list[str] = field(default_factory=list)


def capture_mask_folders(root: Path) -> list[Path]:
    """A capture's own mask folders (`masks/`, `masks_N/`, LLFF/SPIn-NeRF `images_N/label/`):
    ingest copies them into the store, and the masks stage imports the one matching most views."""
    candidates = [root / "masks", *sorted(root.glob("masks_*")), *sorted(root.glob("images*/label"))]
    return [folder for folder in candidates if folder.is_dir()]


def mask_folder(folder: Path) -> Path:
    """The folder that holds the masks: `label/` inside `folder` when that is where they are."""
    label = folder / "label"
    has_images = any(p.suffix.lower() in IMAGE_EXTENSIONS for p in folder.iterdir() if p.is_file())
    return label if label.is_dir() and not has_images else folder


def index_mask_files(folder: Path) -> dict[str, Path]:
    """Lower-case stem (with the mask suffixes above removed) -> file."""
    index: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        stem = path.stem.lower()
        index.setdefault(stem, path)
        for suffix in MASK_SUFFIXES[1:]:
            if stem.endswith(suffix):
                index.setdefault(stem[: -len(suffix)], path)
        base, ext = Path(stem).stem, Path(stem).suffix  # "img_1.jpg" from "IMG_1.JPG.png"
        if ext in IMAGE_EXTENSIONS:
            index.setdefault(base, path)
    return index


def read_mask_image(path: Path, threshold: int = 127) -> np.ndarray:
    """uint8 0/1 mask from any image: grey or colour (max over channels), 0/1 or 0/255 valued."""
    try:
        image = np.asarray(iio.imread(path))
    except Exception as exc:
        raise InputError(f"mask file {path} could not be read as an image ({exc}); re-save it as PNG") from exc
    if image.ndim == 3:
        image = image[..., :3].max(axis=-1) if image.shape[-1] >= 3 else image[..., 0]
    if image.dtype != np.uint8:
        image = image.astype(np.float64)
        image = image / image.max() * 255 if image.max() > 1 else image * 255
    elif image.max() <= 1:
        image = image.astype(np.float64) * 255
    return (image > threshold).astype(np.uint8)


def fit_to_view(mask: np.ndarray, width: int, height: int, label: str) -> tuple[np.ndarray, str | None]:
    """Bring a mask to the view's size; returns the mask and a warning (None when it already fitted)."""
    h, w = mask.shape
    if (h, w) == (height, width):
        return mask, None
    if abs(h - height) <= SIZE_TOLERANCE_PX and abs(w - width) <= SIZE_TOLERANCE_PX:
        out = np.zeros((height, width), np.uint8)
        ch, cw = min(h, height), min(w, width)
        out[:ch, :cw] = mask[:ch, :cw]
        return out, f"{label}: mask is {w}x{h}, view is {width}x{height}; cropped/padded at the bottom-right"
    if abs(w / h - width / height) > ASPECT_TOLERANCE * (width / height):
        raise InputError(
            f"{label}: mask is {w}x{h} but the view is {width}x{height} (a different aspect ratio), so it "
            "cannot be aligned; export the mask at the image's size"
        )
    resized = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    return (resized >= 0.5).astype(np.uint8), f"{label}: mask resized from {w}x{h} to {width}x{height}"


def import_masks(
    folder: str | Path,
    view_sources: Sequence[str],
    sizes: Sequence[tuple[int, int]],
    threshold: int = 127,
) -> ImportedMasks:
    """Match mask files to views by the stem of each view's source file.

    view_sources: the source file name/path of each view; sizes: (width, height) of each view.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise InputError(f"mask folder {folder} does not exist; pass the folder that holds the mask images")
    folder = mask_folder(folder)
    index = index_mask_files(folder)
    if not index:
        raise InputError(f"mask folder {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    masks, matched, missing, notes = [], {}, [], []
    for i, (source, (width, height)) in enumerate(zip(view_sources, sizes, strict=True)):
        path = index.get(Path(source).stem.lower())
        if path is None:
            masks.append(np.zeros((height, width), np.uint8))
            missing.append(i)
            continue
        mask, note = fit_to_view(read_mask_image(path, threshold), width, height, f"mask {path.name}")
        if note:
            notes.append(note)
        masks.append(mask)
        matched[i] = str(path)
    if not matched:
        raise InputError(
            f"no file in {folder} matches a view's name (e.g. view '{Path(view_sources[0]).name}' "
            f"expects '{Path(view_sources[0]).stem}.png' or '{Path(view_sources[0]).stem}_mask.png')"
        )
    if notes:
        log.warning("%d of %d masks did not match their view's size, e.g. %s", len(notes), len(matched), notes[0])
    return ImportedMasks(masks, matched, missing, notes)

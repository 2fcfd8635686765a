"""Decoding capture photos: EXIF orientation, optional downscale, and honest failure reports.

Why this module: phone captures mix orientations and sometimes contain broken files (an
interrupted copy, a zero-byte placeholder, a stray text file). Every file is decoded fully
(truncation only shows when the last bytes are read), turned upright with its EXIF orientation,
and either kept with the scale that was applied or reported with the reason it was skipped.
Sizes are never unified: each view keeps its own shape and hence its own intrinsics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

# HEIC/HEIF (iPhone default) decodes through pillow-heif's Pillow plugin.
pillow_heif.register_heif_opener()

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".heic", ".heif", ".tif", ".tiff", ".bmp", ".webp"})
# EXIF orientations that swap width and height (transposes and quarter turns).
TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})


class UnreadableImageError(Exception):
    """A file that cannot be used as a view; the message is the reason shown to the user."""


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # (H, W, 3) uint8, upright
    orientation: int  # EXIF orientation tag of the file (1 = already upright)
    source_size: tuple[int, int]  # (width, height) of the upright full-resolution image


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def decode_image(path: str | Path, apply_exif: bool = True) -> DecodedImage:
    """Decode one photo to upright RGB uint8; raise UnreadableImageError with the reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableImageError(f"cannot read file ({exc.strerror})") from exc
    if size == 0:
        raise UnreadableImageError("empty file (0 bytes)")
    try:
        with Image.open(path) as im:
            im.load()  # raises on truncated data, which Image.open alone does not notice
            orientation = int(im.getexif().get(0x0112, 1))
            upright = ImageOps.exif_transpose(im) if apply_exif else im
            rgb = np.asarray(upright.convert("RGB"))
    except UnidentifiedImageError as exc:
        raise UnreadableImageError("not a decodable image (unknown or corrupt format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnreadableImageError(f"corrupt or truncated image ({exc})") from exc
    return DecodedImage(pixels=rgb, orientation=orientation, source_size=(rgb.shape[1], rgb.shape[0]))


def fit_max_side(width: int, height: int, max_side: int | None) -> tuple[int, int, float]:
    """Size after shrinking so the longer side is at most `max_side` (never enlarged)."""
    if max_side is None or max(width, height) <= max_side:
        return width, height, 1.0
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale)), scale


def resize(pixels: np.ndarray, width: int, height: int, nearest: bool = False) -> np.ndarray:
    """Resize an (H, W[, C]) uint8 image; area-like filtering for photos, nearest for label masks."""
    if pixels.shape[1] == width and pixels.shape[0] == height:
        return pixels
    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.LANCZOS
    return np.asarray(Image.fromarray(pixels).resize((width, height), resample))


def read_mask(path: str | Path, width: int, height: int) -> np.ndarray:
    """A label image as a uint8 {0, 1} mask at the given size.

    Threshold at half intensity so JPEG-compressed masks (grey fringes) binarise sensibly; label
    images stored as 0/1 values (some datasets do) are taken as they are.
    """
    grey = decode_image(path).pixels.max(axis=2)
    threshold = 127 if grey.max() > 1 else 0
    return (resize(grey, width, height, nearest=True) > threshold).astype(np.uint8)


def write_image(path: str | Path, pixels: np.ndarray) -> None:
    """Save uint8 RGB pixels (format from the suffix; PNG keeps them exact)."""
    Image.fromarray(np.ascontiguousarray(pixels)).save(path)

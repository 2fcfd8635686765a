"""Helpers of the fault suite: tiny captures, file-tree digests, the shape of a refused command."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` -> sha256 of its bytes (what must survive a refused command)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_photos(folder: Path, names: list[str], size: tuple[int, int] = (32, 24), seed: int = 0) -> Path:
    """Noise photos (PNG) named `names` under `folder`."""
    from inpaint3d_core.io.images import write_image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        write_image(folder / f"{name}.png", rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    return folder


def one_line_error(err: str) -> str:
    """The stderr of a refused command: exactly one line, starting with `error:`; returns it."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]

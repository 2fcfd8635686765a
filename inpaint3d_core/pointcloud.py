"""A coloured point cloud of the inpainted field's surface, for viewing in other tools (PLY).

Why from rendered depth: the expected ray-termination depth at each pixel of a render is where
the field's surface is along that ray, so unprojecting the renders at the input cameras samples
the visible surface (the inpainted region included) with its rendered colour, without querying
the field's density. Transparent pixels (low opacity) carry no surface and are dropped; a voxel
grid merges the many views' samples of the same spot.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from plyfile import PlyData, PlyElement

from inpaint3d_core.errors import InputError


def unproject_depth(
    rgb: np.ndarray,
    depth: np.ndarray,
    K: np.ndarray,
    c2w: np.ndarray,
    acc: np.ndarray | None = None,
    min_acc: float = 0.5,
    stride: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """World points (P, 3) float64 and colours (P, 3) uint8 of one view's pixels (every
    `stride`-th row/column) with positive depth and opacity >= `min_acc`."""
    height, width = depth.shape
    rows, cols = np.mgrid[0:height:stride, 0:width:stride]
    z = np.asarray(depth, np.float64)[rows, cols]
    keep = np.isfinite(z) & (z > 0)
    if acc is not None:
        keep &= np.asarray(acc)[rows, cols] >= min_acc
    rows, cols, z = rows[keep], cols[keep], z[keep]
    pix = np.stack([cols + 0.5, rows + 0.5, np.ones_like(z)])
    cam = (np.linalg.inv(K) @ pix) * z
    world = (c2w[:3, :3] @ cam + c2w[:3, 3:4]).T
    colours = np.asarray(rgb)[rows, cols]
    if colours.dtype != np.uint8:
        colours = (np.clip(colours, 0, 1) * 255 + 0.5).astype(np.uint8)
    return world, colours


def voxel_merge(xyz: np.ndarray, rgb: np.ndarray, voxel: float) -> tuple[np.ndarray, np.ndarray]:
    """One point per occupied voxel of side `voxel`: the mean position and mean colour."""
    if voxel <= 0 or len(xyz) == 0:
        return xyz, rgb
    keys = np.floor(xyz / voxel).astype(np.int64)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    merged_xyz = np.zeros((len(counts), 3))
    merged_rgb = np.zeros((len(counts), 3))
    np.add.at(merged_xyz, inverse, xyz)
    np.add.at(merged_rgb, inverse, rgb.astype(np.float64))
    merged_xyz /= counts[:, None]
    merged_rgb /= counts[:, None]
    return merged_xyz, (merged_rgb + 0.5).astype(np.uint8)


def write_ply(path: Path, xyz: np.ndarray, rgb: np.ndarray) -> Path:
    """Binary little-endian PLY with float32 x, y, z and uint8 red, green, blue per vertex."""
    if len(xyz) == 0:
        raise InputError(f"{path}: no surface points to write (every rendered pixel was transparent)")
    if xyz.shape != rgb.shape or xyz.shape[1] != 3:
        raise InputError(f"point cloud: xyz {xyz.shape} and rgb {rgb.shape} must both be (P, 3)")
    vertex = np.empty(len(xyz), dtype=[(n, "f4") for n in "xyz"] + [(n, "u1") for n in ("red", "green", "blue")])
    for i, name in enumerate("xyz"):
        vertex[name] = xyz[:, i]
    for i, name in enumerate(("red", "green", "blue")):
        vertex[name] = rgb[:, i]
    path.parent.mkdir(parents=True, exist_ok=True)
    PlyData([PlyElement.describe(vertex, "vertex")], text=False, byte_order="<").write(str(path))
    return path


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(xyz float32 (P, 3), rgb uint8 (P, 3)) of a PLY written by `write_ply` (or any vertex PLY
    with those properties)."""
    vertex = PlyData.read(str(path))["vertex"]
    xyz = np.stack([vertex[n] for n in "xyz"], axis=1)
    rgb = np.stack([vertex[n] for n in ("red", "green", "blue")], axis=1)
    return xyz, rgb

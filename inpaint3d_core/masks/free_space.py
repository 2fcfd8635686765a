"""Free space: where the cameras see through a 3D point to a surface behind it.

Why: the reference mask's viewing cone holds the object *and* whatever stands behind it (a box,
a wall, the floor). Both are hidden from the reference view, both sit in the cone, so depth
alone cannot tell the object's unseen back from a crate a hand's width behind it. What tells
them apart is the air between them: along a reference ray, the stretch between the object's
visible front and its back is inside the object and no camera sees through it, while the
stretch between the object's back and the crate is empty, and the views looking past the
object see straight through it to the crate or the wall. A point whose reference ray crosses
such seen-through space after leaving the object is behind the object, not on it.

How: each view's visible points are binned into a coarse z-buffer (cells about as wide as the
points' spacing in that view, each holding its nearest depth), or a depth map is used as it
is. A 3D sample is *seen through* in a view when it lands in a cell whose nearest surface lies
clearly behind it. Empty cells say nothing, and a cell straddling an edge keeps its nearer
surface, so the test errs toward "not seen through" (keeping points) rather than carving the
object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

if TYPE_CHECKING:
    from inpaint3d_core.masks.propagate import ScenePoints

# A view's z-buffer cell is this many times the typical spacing of its visible points (most
# cells then hold a point, and one cell is still small against an object).
_CELL_SPACING = 1.5


@dataclass
class _ViewBuffer:
    view: int
    cell: float
    nearest: np.ndarray  # (rows, cols) nearest visible depth per cell, inf where empty


def _view_buffer(scene: ScenePoints, view: int, tolerance: float) -> _ViewBuffer:
    depth = scene.depth(view)
    if depth is not None:
        return _ViewBuffer(view, 1.0, np.where(np.isfinite(depth) & (depth > 0), depth, np.inf))
    uv, z, _ = scene.project(view)
    seen = scene.visible(view, tolerance)
    w, h = int(scene.cameras.width[view]), int(scene.cameras.height[view])
    pts, zs = uv[seen], z[seen]
    if len(pts) < 8:
        return _ViewBuffer(view, float(max(w, h)), np.full((1, 1), np.inf))
    k = min(4, len(pts) - 1)
    spacing = float(np.median(cKDTree(pts).query(pts, k=k + 1)[0][:, k]))
    cell = max(1.0, _CELL_SPACING * spacing)
    rows, cols = int(np.ceil(h / cell)), int(np.ceil(w / cell))
    nearest = np.full((rows, cols), np.inf)
    iy = np.clip((pts[:, 1] / cell).astype(np.int64), 0, rows - 1)
    ix = np.clip((pts[:, 0] / cell).astype(np.int64), 0, cols - 1)
    np.minimum.at(nearest, (iy, ix), zs)
    return _ViewBuffer(view, cell, nearest)


class FreeSpace:
    """Counts, for 3D samples, the views that see through them to a surface clearly behind."""

    def __init__(self, scene: ScenePoints, tolerance: float, gap: float):
        """tolerance: relative depth slack of the visibility test; gap: relative depth by which
        the nearest surface in a cell must lie behind a sample for the view to see through it."""
        self.scene = scene
        self.gap = gap
        self.buffers = [_view_buffer(scene, v, tolerance) for v in range(len(scene.cameras))]

    def _surface(self, buffer: _ViewBuffer, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Depth of each sample in the view, and the nearest surface in its cell (nan: none known)."""
        uv, z = self.scene.cameras.project(xyz, buffer.view)
        rows, cols = buffer.nearest.shape
        with np.errstate(invalid="ignore"):
            iy = np.floor(uv[:, 1] / buffer.cell)
            ix = np.floor(uv[:, 0] / buffer.cell)
        inside = (z > 1e-6) & (iy >= 0) & (iy < rows) & (ix >= 0) & (ix < cols)
        surface = np.full(len(xyz), np.nan)
        surface[inside] = buffer.nearest[iy[inside].astype(np.int64), ix[inside].astype(np.int64)]
        surface[~np.isfinite(surface)] = np.nan
        return z, surface

    def seen_through(self, xyz: np.ndarray) -> np.ndarray:
        """(M,) int: in how many views each sample lies clearly in front of the nearest visible surface."""
        count = np.zeros(len(xyz), np.int64)
        for buffer in self.buffers:
            z, surface = self._surface(buffer, xyz)
            with np.errstate(invalid="ignore"):
                count += surface > z * (1.0 + self.gap)
        return count

    def occluded(self, xyz: np.ndarray, view: int, nearer_than: float = np.inf) -> np.ndarray:
        """(M,) bool: a visible surface lies clearly in front of the point in `view`, and nearer
        to the camera than `nearer_than`.

        Why not the tracks alone: SfM leaves most points unmatched in most views, so "not
        observed in the reference view" does not mean "hidden there"; only a surface seen in
        front of a point hides it.
        """
        z, surface = self._surface(self.buffers[view], xyz)
        with np.errstate(invalid="ignore"):
            return surface < np.minimum(z, nearer_than) * (1.0 - self.gap)

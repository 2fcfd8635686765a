"""Smooth camera paths for videos: through the input cameras, an orbit, or a forward-facing spiral.

Why three: a path through the captured cameras stays where the NeRF was supervised (the honest
view of a result); an orbit shows 3D consistency of object-centred captures; a spiral is the
usual fly-through for forward-facing (LLFF-style) captures, where an orbit would leave the
observed region. All poses are OpenCV camera-to-world in the normalised scene.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation, RotationSpline

from inpaint3d_core.cameras import look_at, scale_intrinsics
from inpaint3d_core.config_types import PathKind
from inpaint3d_core.errors import InputError


@dataclass(frozen=True)
class CameraPath:
    """One pinhole camera model moving along `c2w` (F, 4, 4)."""

    K: np.ndarray
    c2w: np.ndarray
    width: int
    height: int

    def __len__(self) -> int:
        return len(self.c2w)


def nearest_neighbour_order(centers: np.ndarray) -> np.ndarray:
    """Visit order of the cameras that avoids zig-zags: start at an extreme camera (farthest
    from the centroid) and repeatedly go to the nearest unvisited one. Photo folders carry no
    reliable capture order, so file order is not trusted."""
    n = len(centers)
    start = int(np.argmax(np.linalg.norm(centers - centers.mean(axis=0), axis=1)))
    order, left = [start], set(range(n)) - {start}
    while left:
        rest = np.array(sorted(left))
        nxt = int(rest[np.argmin(np.linalg.norm(centers[rest] - centers[order[-1]], axis=1))])
        order.append(nxt)
        left.remove(nxt)
    return np.array(order)


def interpolate_path(c2w: np.ndarray, n_frames: int) -> np.ndarray:
    """An SE(3) spline through the given poses in order: cubic spline of the centres and a C2
    rotation spline (scipy's RotationSpline), both parametrised by cumulative distance so the
    camera moves at a roughly even speed; poses at (almost) the same place are merged."""
    if len(c2w) < 2:
        raise InputError("an interpolated camera path needs at least 2 registered cameras; use path='orbit'")
    centers = c2w[:, :3, 3]
    steps = np.linalg.norm(np.diff(centers, axis=0), axis=1)
    keep = np.concatenate([[True], steps > 1e-6 * max(steps.max(), 1e-12)])
    c2w, centers = c2w[keep], centers[keep]
    if len(c2w) < 2:
        raise InputError("the cameras all sit at one place: an interpolated path cannot move; use path='orbit'")
    knots = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(centers, axis=0), axis=1))])
    times = np.linspace(0.0, knots[-1], n_frames)
    positions = CubicSpline(knots, centers, bc_type="natural")(times)
    rotations = RotationSpline(knots, Rotation.from_matrix(c2w[:, :3, :3]))(times).as_matrix()
    out = np.tile(np.eye(4), (n_frames, 1, 1))
    out[:, :3, :3], out[:, :3, 3] = rotations, positions
    return out


def world_up(c2w: np.ndarray) -> np.ndarray:
    """The scene's 'up': people hold cameras level, so every camera's x axis is horizontal and
    up is the direction perpendicular to all of them. The cameras' mean -y (OpenCV y points
    down) is tilted by how much they look down, so it only picks the sign, and the direction
    itself when the x axes are all parallel (forward-facing captures)."""
    rough = -c2w[:, :3, 1].mean(axis=0)
    rights = c2w[:, :3, 0]
    eigvals, eigvecs = np.linalg.eigh(rights.T @ rights)
    if eigvals[1] > 10 * eigvals[0] + 1e-9:
        up = eigvecs[:, 0]
    else:
        dominant = eigvecs[:, 2]
        up = rough - (rough @ dominant) * dominant
    up = up if up @ rough >= 0 else -up
    return up / max(np.linalg.norm(up), 1e-12)


def look_target(c2w: np.ndarray, max_condition: float = 1e4) -> np.ndarray | None:
    """The point closest (least squares) to all optical axes: what an object-centred capture looks
    at. None when the axes are nearly parallel (forward-facing captures), where it is undefined."""
    centers, dirs = c2w[:, :3, 3], c2w[:, :3, 2]
    projectors = np.eye(3)[None] - dirs[:, :, None] * dirs[:, None, :]
    a = projectors.sum(axis=0)
    b = (projectors @ centers[:, :, None]).sum(axis=0)[:, 0]
    if np.linalg.cond(a) > max_condition:
        return None
    return np.linalg.solve(a, b)


def orbit_path(c2w: np.ndarray, n_frames: int, elevation_scale: float = 1.0) -> np.ndarray:
    """A full circle around the scene centre at the cameras' mean distance and mean height,
    looking at the centre (the point the cameras look at, or the origin of the normalised
    scene when they look in parallel)."""
    target = look_target(c2w)
    target = np.zeros(3) if target is None else target
    up = world_up(c2w)
    offsets = c2w[:, :3, 3] - target
    heights = offsets @ up
    radial = offsets - heights[:, None] * up
    radius = float(np.linalg.norm(radial, axis=1).mean())
    if radius < 1e-9:
        raise InputError("the cameras sit on the scene's up axis: an orbit is undefined; use path='interpolate'")
    e1 = radial.mean(axis=0)
    if np.linalg.norm(e1) < 1e-6 * radius:  # cameras all around: start at the first one
        e1 = radial[0]
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    height = float(heights.mean()) * elevation_scale
    angles = np.linspace(0.0, 2 * np.pi, n_frames, endpoint=False)
    eyes = target + radius * (np.cos(angles)[:, None] * e1 + np.sin(angles)[:, None] * e2) + height * up
    return np.stack([look_at(eye, target, up) for eye in eyes])


def spiral_path(c2w: np.ndarray, n_frames: int, focus_distance: float, rotations: float = 2.0) -> np.ndarray:
    """An LLFF-style spiral around the mean camera, looking at a point `focus_distance` in front
    of it; the spiral's radii are the 90th percentile of the cameras' offsets in the mean camera's
    frame, so it stays within the captured viewpoints."""
    mean_rot = Rotation.from_matrix(c2w[:, :3, :3]).mean().as_matrix()
    center = c2w[:, :3, 3].mean(axis=0)
    local = (c2w[:, :3, 3] - center) @ mean_rot
    radii = np.percentile(np.abs(local), 90, axis=0)
    radii = np.maximum(radii, 1e-3 * max(focus_distance, 1e-6))
    focus = center + mean_rot[:, 2] * focus_distance
    up = -mean_rot[:, 1]
    angles = np.linspace(0.0, 2 * np.pi * rotations, n_frames, endpoint=False)
    offsets = np.stack([np.cos(angles), np.sin(angles), 0.5 * np.sin(angles / rotations)], axis=1) * radii
    eyes = center + offsets @ mean_rot.T
    return np.stack([look_at(eye, focus, up) for eye in eyes])


def make_path(
    kind: PathKind,
    c2w: np.ndarray,
    K: np.ndarray,
    width: int,
    height: int,
    n_frames: int,
    out_width: int | None = None,
    focus_distance: float = 1.0,
) -> CameraPath:
    """A camera path of `n_frames` built from the registered cameras (c2w (N,4,4)) with the
    reference intrinsics `K` of a `width` x `height` view, rendered `out_width` px wide
    (aspect kept; None = the reference size)."""
    if n_frames < 2:
        raise InputError(f"a camera path needs at least 2 frames, got n_frames={n_frames}")
    if kind == "interpolate":
        poses = interpolate_path(c2w[nearest_neighbour_order(c2w[:, :3, 3])], n_frames)
    elif kind == "orbit":
        poses = orbit_path(c2w, n_frames)
    elif kind == "spiral":
        poses = spiral_path(c2w, n_frames, focus_distance)
    else:
        raise InputError(f"camera path must be one of interpolate, orbit, spiral; got {kind!r}")
    out_w = int(out_width or width)
    out_h = max(2, int(round(height * out_w / width)))
    return CameraPath(K=scale_intrinsics(K, out_w / width, out_h / height), c2w=poses, width=out_w, height=out_h)

"""Which surface points the training photos saw: exact, by ray casting in the synthetic world.

Why: an object-removal benchmark is only a test of generation where part of the removed region
was never photographed. A test pixel's background point counts as seen when some training view
has it in frame, sees it unoccluded with the object in place (the ray from that camera to the
point hits nothing before it), and its pixel there is outside that view's object mask (so the
training loss really had that colour). Everything else in the test mask is unseen: no method
can reconstruct it, only generate it.
"""

from __future__ import annotations

import numpy as np

from inpaint3d_core.cameras import Cameras
from inpaint3d_core.synthetic.geometry import rotate
from inpaint3d_core.synthetic.world import SyntheticWorld, camera_rays, fine_pixel_coordinates, fine_rows_per_chunk

# A ray from a training camera toward a point sees it when its first hit is this close (as a
# fraction of the distance): float64 hits agree to ~1e-12; a real occluder is millimetres away.
_HIT_TOLERANCE = 1e-6


def object_mask(world: SyntheticWorld, K: np.ndarray, c2w: np.ndarray, width: int, height: int, supersample: int):
    """(H, W) uint8 0/1: the object mask `world.render` gives (pixels where any of their
    supersampled rays sees the object first), from the geometry alone, without shading."""
    ss = int(supersample)
    fine_x, fine_y = fine_pixel_coordinates(width, height, ss)
    rows = fine_rows_per_chunk(width, ss)
    parts = []
    for start in range(0, height * ss, rows):
        ys = fine_y[start : start + rows]
        dirs = camera_rays(K, c2w[:3, :3], fine_x, ys)
        t, _, _ = world.cast_background(c2w[:3, 3], dirs)
        t_object, _ = world.object.shape.intersect(c2w[:3, 3], dirs)
        parts.append((t_object < t).reshape(len(ys) // ss, ss, width, ss).any(axis=(1, 3)))
    return np.concatenate(parts).astype(np.uint8)


def pixel_background_points(world: SyntheticWorld, K: np.ndarray, c2w: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """(P, 3) object-free surface points seen through the centres of integer pixels (P, 2) as (x, y)."""
    cam = np.stack(
        [(pixels[:, 0] + 0.5 - K[0, 2]) / K[0, 0], (pixels[:, 1] + 0.5 - K[1, 2]) / K[1, 1], np.ones(len(pixels))],
        axis=1,
    )
    origin = c2w[:3, 3]
    dirs = rotate(cam, c2w[:3, :3])
    t, _, _ = world.cast_background(origin, dirs)
    return origin + t[:, None] * dirs


def seen_by_views(world: SyntheticWorld, points: np.ndarray, cameras: Cameras, masks: np.ndarray) -> np.ndarray:
    """(P,) bool: some view in `cameras` sees the point unoccluded (object in place) outside its
    object mask. masks: (V, H, W) uint8 object masks of those views."""
    seen = np.zeros(len(points), dtype=bool)
    for view in range(len(cameras)):
        todo = np.flatnonzero(~seen)
        if not len(todo):
            break
        uv, z = cameras.project(points[todo], view)
        height, width = masks[view].shape
        with np.errstate(invalid="ignore"):
            px, py = np.floor(uv[:, 0]), np.floor(uv[:, 1])
            framed = (z > 0) & (px >= 0) & (px < width) & (py >= 0) & (py < height)
        todo, px, py = todo[framed], px[framed].astype(np.int64), py[framed].astype(np.int64)
        todo = todo[masks[view][py, px] == 0]
        if not len(todo):
            continue
        origin = cameras.c2w[view, :3, 3]
        dirs = points[todo] - origin  # the point itself is at t = 1
        t_background, _, _ = world.cast_background(origin, dirs)
        t_object, _ = world.object.shape.intersect(origin, dirs)
        visible = np.minimum(t_background, t_object) >= 1.0 - _HIT_TOLERANCE
        seen[todo[visible]] = True
    return seen


def unseen_mask(
    world: SyntheticWorld,
    K: np.ndarray,
    c2w: np.ndarray,
    region: np.ndarray,
    train_cameras: Cameras,
    train_masks: np.ndarray,
) -> np.ndarray:
    """(H, W) uint8 0/1: pixels of `region` (a test view's removed-object mask) whose background
    point no training view saw unmasked."""
    ys, xs = np.nonzero(region)
    out = np.zeros(region.shape, dtype=np.uint8)
    if not len(xs):
        return out
    points = pixel_background_points(world, K, c2w, np.stack([xs, ys], axis=1).astype(np.float64))
    out[ys, xs] = ~seen_by_views(world, points, train_cameras, train_masks)
    return out

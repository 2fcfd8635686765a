"""Propagate a region marked on one (or a few) reference views to every view, through 3D.

How, and why each step:
1. Select the object's 3D points. The reference mask picks the scene points that are *visible*
   in the reference view and project inside it (the seeds: the object's visible surface), kept
   to the nearest surface there (seeds far behind it are background seen through gaps or past
   a loose outline). The object's hidden back lies in the same viewing cone a little further
   away, and so does whatever stands behind the object (a box, a wall, the floor), so depth
   alone cannot choose: a hidden point in the cone joins only when no stretch of its reference
   ray between the object's front and it is seen through by other views
   (`inpaint3d_core.masks.free_space`): the object's inside is never seen through, the air
   between the object and the clutter behind it is. Such points also stay within a depth slab
   as deep as the seeds are wide (objects are about as deep as they are wide). Surfaces that run
   through the cone and continue well outside it (the floor or table the object stands on, a
   wall right behind it) are not the object: their points are dropped by a plane test.
   Isolated points are dropped as outliers. Parts the reference view could not see join by
   growing through short hops: inside the cone hops may be longer where the points are sparser
   (surfaces few views saw carry few points), points behind the front join only by hops along a
   surface (the far wall of an open cup), and outside the cone only where a surface well in
   front of the object hid them.
2. Project the object's points into each view and rasterise their alpha shape (Delaunay
   triangles with short edges), closed and hole-filled: the silhouette, without the inflation
   that splatting discs would add.
3. Carve what hides the object: scene points that are visible in that view, not the object, and
   nearer than the object there (an occluder) cut their own alpha shape out of the silhouette.
   With a depth map (e.g. rendered NeRF depth) the test is per pixel instead.
4. Snap the silhouette to the image (`inpaint3d_core.masks.refine`, GrabCut in a band around
   it, no weights): points sit on surfaces at least two views saw, so the projected outline
   runs a little inside the true one, and a sliver that only this view sees (the far side of
   the object at the ends of a camera arc) has no points at all; the image shows where the
   object ends. Accepted only when it agrees with the projection and has not grown onto
   the background (by area, or over points seen behind the object).
5. Optionally ask SAM (prompts derived per view: positives on visible object points, negatives
   on visible background points just outside, a box around the projection) and keep SAM's mask
   unless it disagrees strongly with the projection, in which case the view is flagged and the
   projection kept.

"Visible" comes from the depth maps when given, otherwise from the sparse points' tracks (a
point is visible in the views that observed it), otherwise every point in front of the camera
counts as visible. Occluded points never prompt SAM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from scipy.spatial import Delaunay, QhullError, cKDTree
from tqdm import tqdm

from inpaint3d_core.cameras import Cameras
from inpaint3d_core.errors import InputError
from inpaint3d_core.masks import morphology
from inpaint3d_core.masks.config import PropagationSettings
from inpaint3d_core.masks.free_space import FreeSpace
from inpaint3d_core.masks.refine import add_touched_rim, grabcut_refine, grew_onto_background
from inpaint3d_core.segment import SamPrompt

log = logging.getLogger(__name__)

# Point spacing is measured to the k-th neighbour: SfM points come in clumps (several features on
# one texture blob), and the nearest neighbour alone would call a sparsely covered view dense.
_SPACING_NEIGHBOUR = 4


@dataclass
class ScenePoints:
    """Scene points in the normalised frame and what sees them.

    observed: (P, N) bool, point p was observed in view n (from SfM tracks), or None.
    depths: per-view (H, W) z-depth maps (None entries allowed); when present they decide visibility.
    """

    xyz: np.ndarray
    cameras: Cameras
    observed: np.ndarray | None = None
    depths: Sequence[np.ndarray | None] | None = None

    def project(self, view: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pixel xy (P, 2), depth (P,), and whether the point lands in the image in front of the camera."""
        uv, z = self.cameras.project(self.xyz, view)
        w, h = self.cameras.width[view], self.cameras.height[view]
        inside = (z > 1e-6) & np.isfinite(uv).all(axis=1)
        inside &= (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        return uv, z, inside

    def depth(self, view: int) -> np.ndarray | None:
        return None if self.depths is None else self.depths[view]

    def visible(self, view: int, tolerance: float) -> np.ndarray:
        """(P,) bool: the point is in the image and not hidden behind other surfaces."""
        uv, z, inside = self.project(view)
        depth = self.depth(view)
        if depth is not None:
            ix = np.clip(uv[:, 0].astype(np.int64, copy=False), 0, depth.shape[1] - 1)
            iy = np.clip(uv[:, 1].astype(np.int64, copy=False), 0, depth.shape[0] - 1)
            safe = np.where(inside, 1, 0)
            surface = depth[iy * safe, ix * safe]
            return inside & (z <= surface * (1 + tolerance))
        if self.observed is not None:
            return inside & self.observed[:, view]
        return inside


def observed_matrix(track_views: np.ndarray, track_offsets: np.ndarray, n_views: int) -> np.ndarray:
    """(P, N) bool from COLMAP-style tracks (views of point p: track_views[off[p]:off[p+1]])."""
    n_points = len(track_offsets) - 1
    owner = np.repeat(np.arange(n_points), np.diff(track_offsets))
    out = np.zeros((n_points, n_views), dtype=bool)
    out[owner, track_views] = True
    return out


def points_from_depths(
    cameras: Cameras, depths: Sequence[np.ndarray | None], stride: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """A scene point cloud from depth maps (every `stride`-th pixel), with who observed each point.

    For scenes without sparse points once a NeRF exists: rendered depth stands in for SfM.
    """
    xyz, owner = [], []
    for view, depth in enumerate(depths):
        if depth is None:
            continue
        ys, xs = np.mgrid[stride // 2 : depth.shape[0] : stride, stride // 2 : depth.shape[1] : stride]
        z = depth[ys, xs].reshape(-1)
        keep = np.isfinite(z) & (z > 0)
        pix = np.stack([xs.reshape(-1) + 0.5, ys.reshape(-1) + 0.5, np.ones(xs.size)], axis=-1)[keep]
        cam = (pix @ np.linalg.inv(cameras.K[view]).T) * z[keep, None]
        c2w = cameras.c2w[view]
        xyz.append(cam @ c2w[:3, :3].T + c2w[:3, 3])
        owner.append(np.full(len(cam), view))
    if not xyz:
        raise InputError("no depth map given: cannot build scene points from depth")
    xyz_all, owner_all = np.concatenate(xyz), np.concatenate(owner)
    observed = np.zeros((len(xyz_all), len(cameras)), dtype=bool)
    observed[np.arange(len(xyz_all)), owner_all] = True
    return xyz_all, observed


# ---------------------------------------------------------------------------- 1. object points
def _fit_plane(points: np.ndarray, rng: np.random.Generator, tolerance: float, iters: int = 200):
    """RANSAC plane (normal, offset) with the most inliers, or None with fewer than 3 points."""
    if len(points) < 3:
        return None, np.zeros(len(points), bool)
    best, best_inliers = None, np.zeros(len(points), bool)
    for _ in range(iters):
        a, b, c = points[rng.choice(len(points), 3, replace=False)]
        normal = np.cross(b - a, c - a)
        norm = np.linalg.norm(normal)
        if norm < 1e-12:
            continue
        normal /= norm
        inliers = np.abs((points - a) @ normal) <= tolerance
        if inliers.sum() > best_inliers.sum():
            best, best_inliers = (normal, float(normal @ a)), inliers
    return best, best_inliers


def _support_planes(scene: ScenePoints, seeds: np.ndarray, size: float, settings: PropagationSettings) -> np.ndarray:
    """(P,) bool: points near the object lying on planes that continue well beyond it (floor, wall).

    The dominant planes among the points around the object are found by RANSAC; one counts as
    support when a good share of its inliers lie farther from the object's centre than the object
    is large (an object's own flat face does not reach that far), it holds only a minority of
    the seeds, and out there it is a real surface: its slab holds several times more points than
    an equally thick slab beside it. Without that last test a thin slab that merely slices through
    the object's unseen back and the clutter around it (about as many points beside it as in it)
    passes for a wall, and removes the very points that outline the object in far views.
    """
    rng = np.random.default_rng(0)
    center = np.median(scene.xyz[seeds], axis=0)
    distance = np.linalg.norm(scene.xyz - center, axis=1)
    near = distance <= 3.0 * size
    pool = near & ~seeds
    on_plane = np.zeros(len(scene.xyz), dtype=bool)
    tol = settings.plane_tolerance * size
    for _ in range(settings.max_planes):
        plane, _ = _fit_plane(scene.xyz[pool], rng, tol)
        if plane is None:
            break
        normal, offset = plane
        plane_distance = np.abs(scene.xyz @ normal - offset)
        inlier = near & (plane_distance <= tol)
        far = near & (distance > size)
        far_inliers = (inlier & far).sum()
        reaches_beyond = far_inliers >= 0.3 * inlier.sum()
        beside = (far & (plane_distance > tol) & (plane_distance <= 3 * tol)).sum() / 2
        is_surface = far_inliers >= settings.plane_contrast * beside
        if reaches_beyond and is_surface and (inlier & seeds).sum() <= 0.3 * seeds.sum():
            on_plane |= inlier
        pool &= ~inlier
    return on_plane


def _drop_outliers(xyz: np.ndarray, k: int = 8, n_std: float = 2.5) -> np.ndarray:
    """(M,) bool: points whose mean distance to their k neighbours is not unusually large."""
    if len(xyz) <= k + 1:
        return np.ones(len(xyz), bool)
    dist, _ = cKDTree(xyz).query(xyz, k=k + 1)
    mean = dist[:, 1:].mean(axis=1)
    return mean <= np.median(mean) + n_std * 1.4826 * np.median(np.abs(mean - np.median(mean))) + 1e-12


def select_object_points(
    scene: ScenePoints, references: Mapping[int, np.ndarray], settings: PropagationSettings
) -> np.ndarray:
    """(P,) bool: the scene points that belong to the object marked by the reference masks."""
    selected = np.zeros(len(scene.xyz), dtype=bool)
    free_space: FreeSpace | None = None
    for view, ref_mask in references.items():
        erode_px = max(1, int(round(settings.reference_erode * max(ref_mask.shape))))
        uv, z, inside = scene.project(view)
        px = np.clip(uv, 0, [ref_mask.shape[1] - 1, ref_mask.shape[0] - 1]).astype(np.int64) * inside[:, None]

        def lands_in(mask: np.ndarray, px: np.ndarray = px, inside: np.ndarray = inside) -> np.ndarray:
            return inside & (mask[px[:, 1], px[:, 0]] > 0)

        in_mask = lands_in(ref_mask)
        visible = scene.visible(view, settings.depth_tolerance)
        seeds = lands_in(morphology.erode(ref_mask, erode_px)) & visible
        if seeds.sum() < settings.min_seed_points:
            raise InputError(
                f"reference mask of view {view} selects only {int(seeds.sum())} visible 3D points "
                f"(need {settings.min_seed_points}): the mask is too small or misplaced, or the scene has too "
                "few points there; draw a larger mask or use SAM"
            )
        size = _object_size(scene, view, ref_mask, seeds)
        # The marked object is the nearest surface in the mask: seeds far behind it are
        # background seen through gaps or past a loosely drawn outline.
        seeds &= z <= np.percentile(z[seeds], 5) + settings.depth_slab * size
        size = _object_size(scene, view, ref_mask, seeds)
        center = np.median(scene.xyz[seeds], axis=0)
        z_lo, z_hi = np.percentile(z[seeds], [2, 98])
        free_space = free_space or FreeSpace(scene, settings.depth_tolerance, settings.depth_tolerance)
        slab = settings.depth_slab * size
        on_planes = _support_planes(scene, seeds, size, settings)
        # Hidden points in the cone that may be the object's unseen back; those whose reference
        # ray crosses seen-through space between the object's front and them stand behind it.
        in_cone = lands_in(morphology.dilate(ref_mask, erode_px))
        hidden = in_cone & ~visible & (z >= z_lo - 0.05 * size)
        hidden &= z <= z_hi + max(slab, settings.grow_limit * size)
        behind = np.zeros(len(scene.xyz), dtype=bool)
        if hidden.any():
            behind[hidden] = _behind_front(scene, view, np.flatnonzero(hidden), seeds, size, free_space, settings)
        candidates = in_mask & hidden & ~behind & (z <= z_hi + slab)
        idx = np.flatnonzero((candidates | seeds) & ~on_planes)
        keep = _drop_outliers(scene.xyz[idx])
        chosen = np.zeros(len(scene.xyz), dtype=bool)
        chosen[idx[keep]] = True
        chosen |= seeds & ~on_planes
        # Parts the reference view could not see at all (outside its cone: a base behind a box
        # in front of the object) join when they touch the selection. Outside the cone only a
        # surface well in front of the object's front can have hidden a part of it (the object's
        # own fringe, a frond, at its own depth cannot); what the reference
        # view saw there, or what stands behind the object's own depth, is background and never
        # joins, nor do support planes or what stands behind the object in the cone.
        nearer_than = z_lo - settings.occluder_clearance * size
        hidden_by_nearer = free_space.occluded(scene.xyz, view, nearer_than=nearer_than)
        background = inside & ~in_cone & (visible | ~hidden_by_nearer)
        # What stands behind the object's front may still be its own far wall seen past an open
        # top (a cup, a tankard): it joins by short hops along a surface, never across air.
        reachable = ~background & ~on_planes
        reachable &= np.linalg.norm(scene.xyz - center, axis=1) <= settings.grow_limit * size
        hop = _spacing(scene.xyz[chosen]) * settings.grow_factor

        def along_a_surface(a: np.ndarray, b: np.ndarray, space: FreeSpace = free_space) -> np.ndarray:
            return space.seen_through(0.5 * (a + b)) < settings.free_space_views

        selected |= _grow(
            scene.xyz,
            chosen,
            reachable,
            hop,
            settings.grow_sparse_limit,
            long_ok=in_cone & ~behind,
            checked=behind,
            hop_ok=along_a_surface,
        )
    return selected


def _object_size(scene: ScenePoints, view: int, ref_mask: np.ndarray, seeds: np.ndarray) -> float:
    """The object's size: the seeds' 3D spread, but no more than the mask's width at the seeds' depth.

    Why both: the spread alone grows with every background point a loosely drawn mask lets in
    (a wall metres behind a plant), and the mask's width alone misjudges thin or slanted
    objects; the smaller of the two is right for a compact object and robust to a loose mask.
    """
    xyz = scene.xyz[seeds]
    spread = 2.0 * float(np.percentile(np.linalg.norm(xyz - np.median(xyz, axis=0), axis=1), 90))
    _, z, _ = scene.project(view)
    focal = float(np.sqrt(scene.cameras.K[view][0, 0] * scene.cameras.K[view][1, 1]))
    width = np.sqrt(float(np.count_nonzero(ref_mask))) * float(np.median(z[seeds])) / focal
    return min(spread, width)


def _behind_front(
    scene: ScenePoints,
    view: int,
    points: np.ndarray,
    seeds: np.ndarray,
    size: float,
    free_space: FreeSpace,
    settings: PropagationSettings,
) -> np.ndarray:
    """(len(points),) bool: hidden points whose reference ray crosses seen-through space after the object's front.

    The front at a point's pixel is the deepest of its nearest seeds there (deepest, so that on a
    steep surface the stretch tested never starts in the air in front of the object). Samples
    run along the reference ray from just behind that front to just before the point; the point
    stands behind the object when any sample is seen through by `free_space_views` views.
    """
    uv, z, _ = scene.project(view)
    k = min(4, int(seeds.sum()))
    _, nearest = cKDTree(uv[seeds]).query(uv[points], k=k)
    front = z[seeds][np.asarray(nearest).reshape(len(points), k)].max(axis=1)
    margin = np.maximum(settings.depth_tolerance * z[points], settings.free_space_margin * size)
    start, stop = front + margin, z[points] - margin
    tested = stop > start
    behind = np.zeros(len(points), dtype=bool)
    if not tested.any():
        return behind
    fractions = (np.arange(settings.free_space_samples) + 0.5) / settings.free_space_samples
    depth = start[tested, None] + (stop - start)[tested, None] * fractions  # (T, S) depths along each ray
    eye = scene.cameras.centers[view]
    rays = scene.xyz[points[tested]] - eye  # reaches the point at its own depth
    samples = eye + rays[:, None, :] * (depth / z[points[tested], None])[..., None]
    seen = free_space.seen_through(samples.reshape(-1, 3)).reshape(depth.shape)
    behind[tested] = (seen >= settings.free_space_views).any(axis=1)
    return behind


def _spacing(xyz: np.ndarray) -> float:
    """Typical distance between neighbouring points (median distance to the k-th neighbour)."""
    k = min(_SPACING_NEIGHBOUR, len(xyz) - 1)
    return float(np.median(cKDTree(xyz).query(xyz, k=k + 1)[0][:, k]))


def _grow(
    xyz: np.ndarray,
    start: np.ndarray,
    reachable: np.ndarray,
    radius: float,
    sparse_limit: float,
    long_ok: np.ndarray,
    checked: np.ndarray | None = None,
    hop_ok: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """(P,) bool: `start` plus every reachable point connected to it by short hops.

    A hop into a point may be as long as `radius` or, for points in `long_ok` whose
    surroundings are sparser, the local spacing there scaled like `radius` is (up to
    `sparse_limit` times `radius`). Why: SfM density follows how many views saw a surface; the
    part of an object that only the last views of an arc see carries a few scattered points, and
    a hop length calibrated on the densely seen front stops short of exactly the part that
    outlines the object in those views. Stray mis-triangulated points around a real object are
    just as sparse, so long hops are only allowed where the reference view independently says
    "object" (inside its mask's cone: every point of the object projects inside its silhouette).
    Points in `checked` join only by a hop that `hop_ok(from, to)` accepts.
    """
    grown = start.copy()
    pool = np.flatnonzero(reachable & ~start)
    if len(pool) == 0 or radius <= 0:
        return grown
    k = min(_SPACING_NEIGHBOUR, len(xyz) - 1)
    local = cKDTree(xyz).query(xyz[pool], k=k + 1)[0][:, k]
    hop = np.clip(local * (radius / max(_spacing(xyz[start]), 1e-12)), radius, sparse_limit * radius)
    hop = np.where(long_ok[pool], hop, radius)
    tree = cKDTree(xyz[pool])
    frontier = xyz[start]
    while len(frontier):
        hits = np.unique(
            np.concatenate([np.asarray(near, np.int64) for near in tree.query_ball_point(frontier, hop.max())])
        )
        hits = hits[~grown[pool[hits]]]
        if len(hits) == 0:
            break
        distance, nearest = cKDTree(frontier).query(xyz[pool[hits]])
        close = distance <= hop[hits]
        if checked is not None and hop_ok is not None:
            test = close & checked[pool[hits]]
            if test.any():
                close[test] = hop_ok(frontier[nearest[test]], xyz[pool[hits[test]]])
        new = hits[close]
        if len(new) == 0:
            break
        grown[pool[new]] = True
        frontier = xyz[pool[new]]
    return grown


# ---------------------------------------------------------------------------- 2. silhouettes
def alpha_shape_mask(uv: np.ndarray, width: int, height: int, alpha_factor: float, alpha_fraction: float) -> np.ndarray:
    """uint8 (H, W): union of the Delaunay triangles of `uv` whose edges are all short.

    The edge limit is `alpha_factor` times the median point spacing (so it adapts to how densely
    the points cover the view), but at least `alpha_fraction` of the points' overall size (the
    square root of their convex hull's area), because SfM points are clumpy: dense on texture,
    absent on plain paint. Points outside any kept triangle mark their own pixel.
    """
    mask = np.zeros((height, width), np.uint8)
    if len(uv) == 0:
        return mask
    # One point per pixel is all the outline can resolve; clumps otherwise slow Delaunay down.
    uv = np.unique(np.floor(uv), axis=0) + 0.5
    shift = 4  # sub-pixel precision for cv2 drawing (coordinates * 16)
    scale = 1 << shift
    if len(uv) >= 4:
        k = min(_SPACING_NEIGHBOUR, len(uv) - 1)
        spacing = float(np.median(cKDTree(uv).query(uv, k=k + 1)[0][:, k]))
        extent = np.sqrt(max(cv2.contourArea(cv2.convexHull(uv.astype(np.float32))), 1.0))
        limit = max(alpha_factor * spacing, alpha_fraction * extent, 1.5)
        try:
            tri = Delaunay(uv)
        except QhullError:
            tri = None
        if tri is not None:
            corners = uv[tri.simplices]
            edges = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=-1).max(axis=1)
            kept = corners[edges <= limit] - 0.5
            # fillPoly's even-odd rule can drop a pixel on an edge shared by two triangles; the
            # closing in `silhouette` restores those.
            cv2.fillPoly(mask, list(np.round(kept * scale).astype(np.int32)), 1, shift=shift)
    px = np.clip(uv.astype(np.int64), 0, [width - 1, height - 1])
    mask[px[:, 1], px[:, 0]] = 1
    return mask


def silhouette(uv: np.ndarray, width: int, height: int, settings: PropagationSettings) -> np.ndarray:
    """Alpha shape, closed and hole-filled: the object's projected outline."""
    mask = alpha_shape_mask(uv, width, height, settings.alpha_factor, settings.alpha_fraction)
    return morphology.fill_holes(morphology.close(mask, settings.closing_px))


def claim_unexplained(mask: np.ndarray, background_uv: np.ndarray, settings: PropagationSettings) -> np.ndarray:
    """Add to `mask` the pixels next to it that no visible background point explains.

    Why: SfM only keeps points seen by two or more views, so a strip of the object that only
    this view sees has no points, and the projected silhouette stops short of it. Where the
    background around the object is densely covered by visible points, a gap in that cover
    touching the silhouette can only be more object. Where the background is bare (plain walls,
    a studio backdrop) nothing is claimed.
    """
    if not mask.any() or len(background_uv) < 8 or settings.unexplained_reach <= 0:
        return mask
    h, w = mask.shape
    reach = max(1.0, settings.unexplained_reach * np.sqrt(mask.sum()))
    distance = cv2.distanceTransform(1 - mask, cv2.DIST_L2, 5)
    ring = ((distance > 0) & (distance <= reach)).astype(np.uint8)
    px = np.clip(background_uv.astype(np.int64), 0, [w - 1, h - 1])
    near = distance[px[:, 1], px[:, 0]] <= 2 * reach
    if near.sum() < 8:
        return mask
    dots = np.zeros_like(mask)
    dots[px[near, 1], px[near, 0]] = 1
    radius = max(1, int(np.ceil(_spacing(background_uv[near]))))
    explained = morphology.dilate(dots, radius)
    if (ring & explained).sum() < settings.min_background_cover * ring.sum():
        return mask
    # A gap is claimed only when it touches the silhouette and explained background closes it
    # off before the reach ends: a gap running out to the edge of the ring is bare background,
    # and a hole in the background cover away from the silhouette is just a sparse patch of it.
    gap = ring & (1 - explained)
    n_labels, labels = cv2.connectedComponents(gap)
    closed_off = np.zeros(n_labels, bool)
    closed_off[np.unique(labels[(gap > 0) & (distance <= 1.5)])] = True
    closed_off[np.unique(labels[(gap > 0) & (distance > reach - 1.5)])] = False
    closed_off[0] = False
    return (mask | closed_off[labels]).astype(np.uint8)


def carve_occluders(
    mask: np.ndarray,
    scene: ScenePoints,
    view: int,
    object_points: np.ndarray,
    visible: np.ndarray,
    settings: PropagationSettings,
) -> np.ndarray:
    """Remove from `mask` what hides the object in this view.

    An occluder is a visible surface nearer than the object at that pixel *and* separated from
    the object in 3D by more than `occluder_gap` of its size: a surface touching the selected
    points is more likely a part of the object the reference view never saw than something in
    front of it.
    """
    uv, z, inside = scene.project(view)
    h, w = mask.shape
    obj = object_points & inside
    if obj.sum() < 4 or not mask.any():
        return mask
    obj_xyz = scene.xyz[object_points]
    gap = settings.occluder_gap * 2.0 * float(np.percentile(np.linalg.norm(obj_xyz - obj_xyz.mean(0), axis=1), 90))
    tree_3d = cKDTree(obj_xyz)
    # Object depth near a pixel: the nearest of the object's projected points (k of them, min z).
    tree_2d = cKDTree(uv[obj])

    def object_depth(xy: np.ndarray) -> np.ndarray:
        _, idx = tree_2d.query(xy, k=4)
        return z[obj][idx].min(axis=1)

    def occludes(xy: np.ndarray, depth: np.ndarray, xyz: np.ndarray) -> np.ndarray:
        nearer = depth < object_depth(xy) * (1 - settings.depth_tolerance)
        return nearer & (tree_3d.query(xyz)[0] > gap)

    depth_map = scene.depth(view)
    if depth_map is not None:
        ys, xs = np.nonzero(mask)
        xy = np.stack([xs + 0.5, ys + 0.5], axis=1)
        d = depth_map[ys, xs]
        cam = np.concatenate([xy, np.ones((len(xy), 1))], axis=1) @ np.linalg.inv(scene.cameras.K[view]).T * d[:, None]
        c2w = scene.cameras.c2w[view]
        occluded = occludes(xy, d, cam @ c2w[:3, :3].T + c2w[:3, 3])
        out = mask.copy()
        out[ys[occluded], xs[occluded]] = 0
        return out
    other = np.flatnonzero(visible & ~object_points & inside)
    opx = np.clip(uv[other].astype(np.int64), 0, [w - 1, h - 1])
    other = other[mask[opx[:, 1], opx[:, 0]] > 0]
    if len(other) < 3:
        return mask
    in_front = other[occludes(uv[other], z[other], scene.xyz[other])]
    if len(in_front) < settings.min_occluder_points:
        return mask
    # Each occluding point covers about one object-point spacing; clusters merge by closing, and
    # only clusters with enough points carve (a stray mis-triangulated point is not an occluder).
    radius = max(int(round(_spacing(uv[obj]))), 1)
    discs = np.zeros_like(mask)
    for x, y in uv[in_front].astype(np.int64):
        cv2.circle(discs, (int(x), int(y)), radius, 1, -1)
    discs = morphology.close(discs, 2 * radius)
    n_labels, labels = cv2.connectedComponents(discs)
    opx = np.clip(uv[in_front].astype(np.int64), 0, [w - 1, h - 1])
    counts = np.bincount(labels[opx[:, 1], opx[:, 0]], minlength=n_labels)
    carve = (counts >= settings.min_occluder_points)[labels] & (discs > 0)
    return (mask & ~carve).astype(np.uint8)


def _behind_object(
    scene: ScenePoints, view: int, object_points: np.ndarray, visible: np.ndarray, settings: PropagationSettings
) -> np.ndarray:
    """(P,) bool: visible non-object points clearly deeper than the object where they land.

    These are surfaces behind the object (floor, clutter, walls); unselected points at the
    object's own depth next to its outline may be the object itself and prove nothing.
    """
    uv, z, inside = scene.project(view)
    obj = object_points & inside
    other = np.flatnonzero(visible & ~object_points & inside)
    out = np.zeros(len(z), dtype=bool)
    if obj.sum() < 4 or len(other) == 0:
        return out
    obj_xyz = scene.xyz[object_points]
    size = 2.0 * float(np.percentile(np.linalg.norm(obj_xyz - obj_xyz.mean(axis=0), axis=1), 90))
    _, idx = cKDTree(uv[obj]).query(uv[other], k=min(4, int(obj.sum())))
    object_depth = z[obj][np.asarray(idx).reshape(len(other), -1)].max(axis=1)
    out[other] = z[other] > object_depth + settings.depth_slab * size
    return out


# ---------------------------------------------------------------------------- 4. SAM prompts
def farthest_points(uv: np.ndarray, k: int) -> np.ndarray:
    """Indices of up to k points spread over `uv` (farthest-point sampling from the centroid)."""
    if len(uv) <= k:
        return np.arange(len(uv))
    chosen = [int(np.argmin(np.linalg.norm(uv - uv.mean(axis=0), axis=1)))]
    dist = np.linalg.norm(uv - uv[chosen[0]], axis=1)
    for _ in range(k - 1):
        chosen.append(int(np.argmax(dist)))
        dist = np.minimum(dist, np.linalg.norm(uv - uv[chosen[-1]], axis=1))
    return np.asarray(chosen)


def derive_prompt(
    projection: np.ndarray,
    uv: np.ndarray,
    object_visible: np.ndarray,
    background_visible: np.ndarray,
    settings: PropagationSettings,
) -> SamPrompt | None:
    """SAM prompt for one view from its projected mask and visible points, or None without positives.

    Positives: visible object points well inside the projection. Negatives: visible background
    points in a band just outside it (where SAM would otherwise bleed). Box: the projection's
    extent with a small margin.
    """
    h, w = projection.shape
    margin = max(2, round(0.02 * max(h, w)))
    core = morphology.erode(projection, margin)
    band = morphology.dilate(projection, 6 * margin) & (1 - morphology.dilate(projection, margin))

    def pick(points: np.ndarray, region: np.ndarray, k: int) -> np.ndarray:
        px = np.clip(uv[points].astype(np.int64), 0, [w - 1, h - 1])
        cand = uv[points][region[px[:, 1], px[:, 0]] > 0]
        return cand[farthest_points(cand, k)] if len(cand) else cand.reshape(0, 2)

    positives = pick(object_visible, core if core.any() else projection, settings.sam_positive_points)
    if len(positives) == 0:
        return None
    negatives = pick(background_visible, band, settings.sam_negative_points)
    ys, xs = np.nonzero(projection)
    box = [
        max(xs.min() - margin, 0),
        max(ys.min() - margin, 0),
        min(xs.max() + 1 + margin, w),
        min(ys.max() + 1 + margin, h),
    ]
    points = np.concatenate([positives, negatives])
    labels = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    return SamPrompt(points=points, labels=labels, box=np.asarray(box, dtype=np.float32))


# ---------------------------------------------------------------------------- all views
@dataclass
class PropagationResult:
    """masks: uint8 (H, W) per view; source: how each view's mask was made
    ("reference", "projection", "refined" (projection snapped to the image outline), "sam", "sam-rejected",
    "unregistered"); agreement: SAM-vs-projection IoU."""

    masks: list[np.ndarray]
    source: list[str]
    object_points: np.ndarray
    agreement: dict[int, float] = field(default_factory=dict)

    @property
    def flagged(self) -> list[int]:
        return [i for i, s in enumerate(self.source) if s == "sam-rejected"]


Segmenter = Callable[[np.ndarray, SamPrompt], tuple[np.ndarray, float]]


def propagate(
    scene: ScenePoints,
    references: Mapping[int, np.ndarray],
    settings: PropagationSettings | None = None,
    registered: np.ndarray | None = None,
    segment: Segmenter | None = None,
    image: Callable[[int], np.ndarray] | None = None,
    depths: Sequence[np.ndarray | None] | None = None,
) -> PropagationResult:
    """Masks for every view from reference masks on a few views.

    registered: (N,) bool, views without a pose get an empty mask. image: a view -> image
    reader; with it each projection is snapped to the image's outline (`settings.image_refine`),
    and with segment (a SAM segmenter, `SamSegmenter.segment`) SAM refines it further.
    depths: per-view z-depth maps in the scene's frame (e.g. rendered NeRF depth); when given,
    they decide visibility instead of the points' tracks.
    """
    settings = settings or PropagationSettings()
    if depths is not None:
        scene = replace(scene, depths=depths)
    n = len(scene.cameras)
    registered = np.ones(n, bool) if registered is None else np.asarray(registered, bool)
    if not references:
        raise InputError("propagation needs at least one reference mask")
    for view, ref in references.items():
        shape = (int(scene.cameras.height[view]), int(scene.cameras.width[view]))
        if ref.shape != shape:
            raise InputError(f"reference mask of view {view} is {ref.shape[::-1]} (w, h) but the view is {shape[::-1]}")
        if not registered[view]:
            raise InputError(f"reference view {view} has no pose (unregistered): mark the region on a registered view")
    obj = select_object_points(scene, references, settings)
    reference_share = float(np.mean([morphology.area_fraction(m) for m in references.values()]))
    masks, source, agreement = [], [], {}
    for view in tqdm(range(n), desc="propagating masks", unit="view", leave=False):
        w, h = int(scene.cameras.width[view]), int(scene.cameras.height[view])
        if view in references:
            masks.append(morphology.as_binary(references[view]))
            source.append("reference")
            continue
        if not registered[view]:
            masks.append(np.zeros((h, w), np.uint8))
            source.append("unregistered")
            continue
        uv, _, inside = scene.project(view)
        visible = scene.visible(view, settings.depth_tolerance)
        projection = silhouette(uv[obj & inside], w, h, settings)
        projection = claim_unexplained(projection, uv[~obj & visible], settings)
        projection = carve_occluders(projection, scene, view, obj, visible, settings)
        how = "projection"
        wants_image = settings.image_refine == "grabcut" or segment is not None
        view_image = image(view) if image is not None and wants_image and projection.any() else None
        if view_image is not None and settings.image_refine == "grabcut":
            refined = grabcut_refine(
                view_image,
                projection,
                uv[~obj & visible],
                settings.refine_band,
                settings.refine_iterations,
                settings.refine_max_size,
            )
            refined = add_touched_rim(view_image, refined, settings.rim_min_coverage)
            agrees = morphology.iou(refined, projection) >= settings.refine_min_agreement
            ran_off = grew_onto_background(
                refined,
                projection,
                uv[_behind_object(scene, view, obj, visible, settings)],
                settings.refine_band,
                settings.refine_max_growth,
                settings.refine_max_background,
            )
            # Views of one capture see the object at about one size: growth past a multiple of
            # the reference's share of its view is background, whatever the colours say.
            grown = refined.sum() > projection.sum()
            ran_off |= grown and refined.mean() > settings.refine_max_reference_ratio * reference_share
            if agrees and not ran_off:
                projection, how = refined, "refined"
        mask = projection
        if segment is not None and view_image is not None:
            prompt = derive_prompt(projection, uv, obj & visible, ~obj & visible, settings)
            if prompt is not None:
                sam_mask, _ = segment(view_image, prompt)
                agreement[view] = morphology.iou(sam_mask, projection)
                if agreement[view] >= settings.sam_min_agreement:
                    mask, how = morphology.as_binary(sam_mask), "sam"
                else:
                    how = "sam-rejected"
                    log.warning(
                        "view %d: SAM mask disagrees with the 3D projection (IoU %.2f); using the projection",
                        view,
                        agreement[view],
                    )
        masks.append(mask)
        source.append(how)
    return PropagationResult(masks, source, obj, agreement)

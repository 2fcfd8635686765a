"""Poses stage: calibrated, normalised pinhole cameras and sparse points for the ingested views.

Poses are estimated with COLMAP (pycolmap) or imported from the capture's pose file (COLMAP
model, transforms.json, LLFF poses_bounds.npy; read from the copy ingest put in the store);
`source='auto'` imports when a pose file was found at ingest (COLMAP model first: it has points
and distortion) and estimates otherwise.

Distortion: images are undistorted here to pinhole cameras of the same size (see
`inpaint3d_core.undistort`) and stored as `poses/images/<i>`, which downstream readers prefer;
`poses/K` is always the pinhole K of the images the store serves.

Writes (layout in `inpaint3d_core.scene`): K, c2w (normalised, OpenCV), registered, near_far,
points/{xyz, rgb, track_views, track_offsets}; attrs normalization, method, camera_model,
source, registered/unregistered view names. Imported poses without points get points
triangulated with the known cameras, so the mask stage always has them.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from inpaint3d_core.cameras import fit_normalization, scale_intrinsics
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.colmap_model import SparseCloud
from inpaint3d_core.io.images import fit_max_side, resize
from inpaint3d_core.io.pose_import import ViewCameras, import_colmap, import_llff, import_transforms
from inpaint3d_core.scene import INGEST, POSES, capture_copy
from inpaint3d_core.sfm import SfmOptions, choose_matcher, estimate_poses, triangulate_known
from inpaint3d_core.stage import StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import read_view, write_views
from inpaint3d_core.undistort import has_distortion, undistort_image, undistorted_intrinsics
from stages.configs.poses import Config

# code_version 2: pose files read from the store's copy of them (ingest), not the capture folder.
SPEC = StageSpec(
    name=POSES, schema_version=1, code_version=2, upstream=(INGEST,), packages=("pycolmap", "opencv-python-headless")
)
_IMPORT_ORDER = ("colmap", "transforms", "llff")


def run(store, config: Config, force: bool = False) -> StageResult:
    return run_stage(store, SPEC, config, lambda ctx: _compute(ctx, config), force=force)


def _timed(ctx: StageContext, key: str, start: float) -> None:
    ctx.timings[key] = time.perf_counter() - start


def _compute(ctx: StageContext, config: Config) -> dict[str, Any]:
    ingest = ctx.store.read(INGEST)
    views: list[dict] = list(ingest.attrs["views"])
    pose_sources: dict[str, str] = dict(ingest.attrs.get("pose_sources", {}))
    images = [read_view(ingest, "images", i) for i in range(len(views))]
    source = _resolve_source(config.source, pose_sources)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="inpaint3d_sfm_") as tmp:
        if source == "estimate":
            cams, method, matcher = _estimate(images, config, Path(tmp) / "sfm")
        else:
            with capture_copy(ctx.store) as copy:  # the pose file as ingest copied it into the store
                cams = _import(source, copy.root / pose_sources[source], views, ingest.attrs.get("image_files", []))
            method, matcher = f"import-{source}", None
        _timed(ctx, "poses_s", start)
        _check_registered(cams.registered, views, config, source)
        start = time.perf_counter()
        K, undistorted = _undistort(images, cams)
        _timed(ctx, "undistort_s", start)
        points = cams.points
        if points is None or len(points) == 0:
            start = time.perf_counter()
            points = _triangulate(undistorted, K, cams, config, Path(tmp) / "triangulate")
            _timed(ctx, "triangulate_s", start)
    reg = cams.registered
    norm = fit_normalization(cams.c2w[reg, :3, 3], points.xyz, radius=config.radius)
    c2w = norm.apply_c2w(cams.c2w)
    c2w[~reg] = np.eye(4)
    xyz = norm.apply_points(points.xyz)
    near_far = _near_far(c2w, reg, xyz, points, config.radius)
    _write(ctx, K, c2w, reg, near_far, xyz, points, undistorted if has_distortion(cams.distortion) else None)
    names = [v["name"] for v in views]
    ctx.group.attrs.update(
        {
            "normalization": norm.to_dict(),
            "method": method,
            "source": source,
            "matcher": matcher,
            "camera_model": "PINHOLE" + (" (undistorted)" if has_distortion(cams.distortion) else ""),
            "registered_views": [n for n, r in zip(names, reg, strict=True) if r],
            "unregistered_views": [n for n, r in zip(names, reg, strict=True) if not r],
        }
    )
    return {
        "views": len(views),
        "registered": int(reg.sum()),
        "unregistered": [n for n, r in zip(names, reg, strict=True) if not r],
        "points": len(points),
        "method": method,
        "undistorted": has_distortion(cams.distortion),
    }


def _resolve_source(requested: str, pose_sources: dict[str, str]) -> str:
    if requested == "auto":
        return next((s for s in _IMPORT_ORDER if s in pose_sources), "estimate")
    if requested != "estimate" and requested not in pose_sources:
        found = ", ".join(sorted(pose_sources)) or "none"
        raise InputError(
            f"poses source '{requested}' was requested but ingest found no such pose file in the capture "
            f"(found: {found}); use --source estimate or one of those"
        )
    return requested


def _import(source: str, path: Path, views: list[dict], image_files: list[str]) -> ViewCameras:
    if source == "colmap":
        return import_colmap(path, views)
    if source == "transforms":
        return import_transforms(path, views)
    return import_llff(path, views, image_files)


def _estimate(images: list[np.ndarray], config: Config, workdir: Path) -> tuple[ViewCameras, str, str]:
    working, scales = [], []
    for im in images:
        w, h, _ = fit_max_side(im.shape[1], im.shape[0], config.sfm_max_side)
        working.append(resize(im, w, h))
        scales.append((im.shape[1] / w, im.shape[0] / h))
    same_size = len({im.shape[:2] for im in images}) == 1
    single = config.intrinsics == "single" or (config.intrinsics == "auto" and same_size)
    if config.intrinsics == "single" and not same_size:
        raise InputError("intrinsics 'single' needs all views to have the same size; use per_image or auto")
    matcher = choose_matcher(len(images), config.matcher, config.exhaustive_max_views)
    options = SfmOptions(
        matcher=matcher,
        mapper=config.mapper,
        camera_model=config.camera_model,
        single_camera=single,
        focal_px=None if config.focal_px is None else config.focal_px / scales[0][0],
        max_features=config.max_features,
        peak_threshold=config.peak_threshold,
        vocab_tree=config.vocab_tree,
        sequential_overlap=config.sequential_overlap,
        sequential_quadratic=config.sequential_quadratic,
    )
    result = estimate_poses(working, workdir, options)
    n = len(images)
    K = np.zeros((n, 3, 3))
    distortion = np.zeros((n, result.cameras.distortion.shape[1]))
    c2w = np.tile(np.eye(4), (n, 1, 1))
    for j, name in enumerate(result.cameras.names):
        i = int(name)
        K[i] = scale_intrinsics(result.cameras.K[j], *scales[i])
        distortion[i] = result.cameras.distortion[j]
        c2w[i] = result.cameras.c2w[j]
    for i in np.flatnonzero(~result.registered):  # a plausible K for views without poses (no rays use it)
        K[i] = scale_intrinsics(result.cameras.K[0], *scales[i])
    cams = ViewCameras(registered=result.registered, K=K, distortion=distortion, c2w=c2w, points=result.points)
    return cams, f"colmap-{config.mapper}", matcher


def _check_registered(registered: np.ndarray, views: list[dict], config: Config, source: str) -> None:
    n, count = len(views), int(registered.sum())
    needed = max(config.min_registered, int(np.ceil(config.min_registered_fraction * n)))
    if count >= needed:
        return
    missing = [v["name"] for v, r in zip(views, registered, strict=True) if not r]
    shown = ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else "")
    advice = (
        "try: photos with more overlap, --matcher sequential (video) or exhaustive, a lower --sfm-max-side, "
        "--mapper global, or --camera-model SIMPLE_PINHOLE"
        if source == "estimate"
        else "check that the pose file lists these images"
    )
    raise InputError(f"only {count} of {n} views got poses (need {needed}); without poses: {shown}; {advice}")


def _undistort(images: list[np.ndarray], cams: ViewCameras) -> tuple[np.ndarray, list[np.ndarray]]:
    K = cams.K.copy()
    out = list(images)
    for i in tqdm(np.flatnonzero(cams.registered), desc="undistort", unit="view", leave=False):
        if has_distortion(cams.distortion[i]):
            h, w = images[i].shape[:2]
            K[i] = undistorted_intrinsics(cams.K[i], cams.distortion[i], w, h)
            out[i] = undistort_image(images[i], cams.K[i], cams.distortion[i], K[i])
    return K, out


def _triangulate(
    images: list[np.ndarray], K: np.ndarray, cams: ViewCameras, config: Config, workdir: Path
) -> SparseCloud:
    """Points for imported poses: triangulated on working-size copies of the registered views."""
    reg = np.flatnonzero(cams.registered)
    working, Ks = [], []
    max_side = min(config.sfm_max_side or config.triangulate_max_side, config.triangulate_max_side)
    for i in reg:
        h, w = images[i].shape[:2]
        nw, nh, _ = fit_max_side(w, h, max_side)
        working.append(resize(images[i], nw, nh))
        Ks.append(scale_intrinsics(K[i], nw / w, nh / h))
    matcher = "pose_neighbours" if config.matcher == "auto" else config.matcher
    cloud = triangulate_known(
        working,
        np.array(Ks),
        cams.c2w[reg],
        workdir,
        matcher,
        config.max_features,
        config.peak_threshold,
        neighbours=config.triangulate_neighbours,
    )
    cloud.track_views = reg[cloud.track_views].astype(np.int32)
    return cloud


def _near_far(
    c2w: np.ndarray, registered: np.ndarray, xyz: np.ndarray, points: SparseCloud, radius: float
) -> np.ndarray:
    """Per-view depth bounds from the points that view sees (1st/99th percentile, 10% margin).

    Fallback for views seeing fewer than 10 points (and unregistered views): from all points in
    front of the camera, else (0.01, distance to the centre + 2 radius).
    """
    n = len(c2w)
    out = np.zeros((n, 2), dtype=np.float32)
    seen: list[list[int]] = [[] for _ in range(n)]
    for p, views in enumerate(points.tracks()):
        for v in views:
            seen[v].append(p)
    for v in range(n):
        w2c = np.linalg.inv(c2w[v])
        fallback = (0.01 * radius, float(np.linalg.norm(c2w[v, :3, 3])) + 2.0 * radius)
        candidates = xyz[seen[v]] if len(seen[v]) >= 10 else xyz
        z = candidates @ w2c[2, :3] + w2c[2, 3]
        z = z[z > 0]
        if not registered[v] or len(z) < 10:
            out[v] = fallback
            continue
        lo, hi = np.percentile(z, [1, 99])
        out[v] = (0.9 * lo, 1.1 * hi)
    return out


def _write(ctx, K, c2w, registered, near_far, xyz, points: SparseCloud, undistorted) -> None:
    group = ctx.group
    group.create_array("K", data=K.astype(np.float64))
    group.create_array("c2w", data=c2w.astype(np.float64))
    group.create_array("registered", data=registered.astype(bool))
    group.create_array("near_far", data=near_far.astype(np.float32))
    pts = group.require_group("points")
    pts.create_array("xyz", data=np.asarray(xyz, dtype=np.float32).reshape(-1, 3))
    pts.create_array("rgb", data=np.asarray(points.rgb, dtype=np.uint8).reshape(-1, 3))
    pts.create_array("track_views", data=np.asarray(points.track_views, dtype=np.int32))
    pts.create_array("track_offsets", data=np.asarray(points.track_offsets, dtype=np.int64))
    if undistorted is not None:
        write_views(group, "images", undistorted)

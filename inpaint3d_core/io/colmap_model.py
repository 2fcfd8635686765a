"""COLMAP sparse models (binary or text) <-> OpenCV cameras, distortion and sparse points.

Reading and writing go through `pycolmap.Reconstruction`, so both encodings and every COLMAP
version's quirks are handled by COLMAP's own code. Distortion is carried as OpenCV's 8-vector
(k1, k2, p1, p2, k3, k4, k5, k6), which covers every perspective model COLMAP has except the
fisheye ones; COLMAP's pixel convention (pixel centres at +0.5) is the project's convention too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pycolmap

from inpaint3d_core.errors import InputError

N_DIST = 8
MODEL_FILES = ("cameras", "images", "points3D")


@dataclass
class SparseCloud:
    """Points with their colours and, per point, the views (indices) that observe it."""

    xyz: np.ndarray  # (P, 3) float64
    rgb: np.ndarray  # (P, 3) uint8
    track_views: np.ndarray  # (T,) int32
    track_offsets: np.ndarray  # (P + 1,) int64

    @classmethod
    def from_tracks(cls, xyz: np.ndarray, rgb: np.ndarray, tracks: list[list[int]]) -> SparseCloud:
        lengths = np.array([len(t) for t in tracks], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        views = np.concatenate([np.asarray(t, dtype=np.int32) for t in tracks]) if tracks else np.zeros(0, np.int32)
        return cls(np.asarray(xyz, np.float64).reshape(-1, 3), np.asarray(rgb, np.uint8).reshape(-1, 3), views, offsets)

    def tracks(self) -> list[np.ndarray]:
        return [self.track_views[a:b] for a, b in zip(self.track_offsets[:-1], self.track_offsets[1:], strict=True)]

    def __len__(self) -> int:
        return len(self.xyz)


@dataclass
class CameraSet:
    """Named views with OpenCV intrinsics, distortion and camera-to-world poses."""

    names: list[str]  # image names as the model stores them (paths relative to the image folder)
    K: np.ndarray  # (N, 3, 3)
    distortion: np.ndarray  # (N, 8) OpenCV coefficients, zeros = pinhole
    c2w: np.ndarray  # (N, 4, 4) OpenCV axes
    width: np.ndarray  # (N,)
    height: np.ndarray  # (N,)


def colmap_to_opencv(camera: pycolmap.Camera) -> tuple[np.ndarray, np.ndarray]:
    """K and the OpenCV distortion 8-vector of a perspective COLMAP camera."""
    name, p = camera.model.name, np.asarray(camera.params, dtype=np.float64)
    dist = np.zeros(N_DIST)
    if name in ("SIMPLE_PINHOLE", "SIMPLE_RADIAL", "RADIAL"):
        fx = fy = p[0]
        cx, cy = p[1], p[2]
        dist[: len(p) - 3] = p[3:]  # k (and k2): the first radial coefficients
    elif name in ("PINHOLE", "OPENCV", "FULL_OPENCV"):
        fx, fy, cx, cy = p[:4]
        dist[: len(p) - 4] = p[4:]  # COLMAP's OPENCV/FULL_OPENCV order is OpenCV's own
    else:
        raise InputError(
            f"COLMAP camera model {name} is not supported (fisheye/other); re-run COLMAP with a "
            "perspective model (SIMPLE_RADIAL, RADIAL, OPENCV, PINHOLE)"
        )
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float64), dist


def opencv_to_colmap(K: np.ndarray, dist: np.ndarray, width: int, height: int, camera_id: int) -> pycolmap.Camera:
    """The simplest COLMAP model that represents K and the distortion exactly."""
    dist = np.asarray(dist, dtype=np.float64)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    if not dist.any():
        model, params = "PINHOLE", [fx, fy, cx, cy]
    elif not dist[4:].any():
        model, params = "OPENCV", [fx, fy, cx, cy, *dist[:4]]
    else:
        model, params = "FULL_OPENCV", [fx, fy, cx, cy, *dist]
    return pycolmap.Camera(
        model=model,
        width=int(width),
        height=int(height),
        params=np.asarray(params, dtype=np.float64),
        camera_id=camera_id,
    )


def is_model_folder(folder: Path) -> bool:
    return folder.is_dir() and all(
        (folder / f"{stem}.bin").exists() or (folder / f"{stem}.txt").exists() for stem in MODEL_FILES
    )


def find_model_folder(capture: Path) -> Path | None:
    """The COLMAP model of a capture: `sparse/0`, `sparse`, `colmap/sparse/0` or the folder itself."""
    for candidate in (capture / "sparse" / "0", capture / "sparse", capture / "colmap" / "sparse" / "0", capture):
        if is_model_folder(candidate):
            return candidate
    return None


def _c2w(image: pycolmap.Image) -> np.ndarray:
    w2c = np.eye(4)
    w2c[:3, :4] = image.cam_from_world().matrix()
    return np.linalg.inv(w2c)


def reconstruction_cameras(rec: pycolmap.Reconstruction) -> tuple[CameraSet, SparseCloud]:
    """Registered images (sorted by name) and their points from a pycolmap reconstruction."""
    images = sorted((im for im in rec.images.values() if im.has_pose), key=lambda im: im.name)
    index = {im.image_id: i for i, im in enumerate(images)}
    Ks, dists, sizes = [], [], []
    for im in images:
        cam = rec.cameras[im.camera_id]
        K, dist = colmap_to_opencv(cam)
        Ks.append(K)
        dists.append(dist)
        sizes.append((cam.width, cam.height))
    cameras = CameraSet(
        names=[im.name for im in images],
        K=np.array(Ks).reshape(-1, 3, 3),
        distortion=np.array(dists).reshape(-1, N_DIST),
        c2w=np.array([_c2w(im) for im in images]).reshape(-1, 4, 4),
        width=np.array([s[0] for s in sizes], dtype=np.int64),
        height=np.array([s[1] for s in sizes], dtype=np.int64),
    )
    xyz, rgb, tracks = [], [], []
    for pid in sorted(rec.points3D):
        point = rec.points3D[pid]
        views = sorted({index[el.image_id] for el in point.track.elements if el.image_id in index})
        if views:
            xyz.append(point.xyz)
            rgb.append(point.color)
            tracks.append(views)
    return cameras, SparseCloud.from_tracks(np.array(xyz), np.array(rgb), tracks)


def read_model(folder: str | Path) -> tuple[CameraSet, SparseCloud]:
    folder = Path(folder)
    if not is_model_folder(folder):
        raise InputError(f"{folder}: not a COLMAP model (needs cameras, images and points3D as .bin or .txt)")
    try:
        rec = pycolmap.Reconstruction(folder)
    except Exception as exc:  # pycolmap raises RuntimeError/ValueError variants for broken files
        raise InputError(f"{folder}: COLMAP model could not be read ({exc})") from exc
    return reconstruction_cameras(rec)


def build_reconstruction(cameras: CameraSet, points: SparseCloud | None = None) -> pycolmap.Reconstruction:
    """A COLMAP reconstruction with one camera per view; each track gets a projected 2D observation.

    COLMAP tracks reference 2D keypoints, which the project does not keep; projecting the point
    into each view that sees it gives the observation exactly (zero reprojection error).
    """
    rec = pycolmap.Reconstruction()
    w2c = np.linalg.inv(cameras.c2w)
    observations: list[list[np.ndarray]] = [[] for _ in cameras.names]
    track_elements: list[list[tuple[int, int]]] = []
    if points is not None:
        for p, views in enumerate(points.tracks()):
            elements = []
            for v in views:
                cam = w2c[v, :3, :3] @ points.xyz[p] + w2c[v, :3, 3]
                uv = (cameras.K[v] @ cam)[:2] / cam[2]
                elements.append((int(v) + 1, len(observations[v])))
                observations[v].append(uv)
            track_elements.append(elements)
    for i, name in enumerate(cameras.names):
        rec.add_camera_with_trivial_rig(
            opencv_to_colmap(cameras.K[i], cameras.distortion[i], cameras.width[i], cameras.height[i], i + 1)
        )
        image = pycolmap.Image(
            name=name,
            camera_id=i + 1,
            image_id=i + 1,
            points2D=[pycolmap.Point2D(np.asarray(uv, dtype=np.float64)) for uv in observations[i]],
        )
        pose = pycolmap.Rigid3d(pycolmap.Rotation3d(w2c[i, :3, :3]), w2c[i, :3, 3])
        rec.add_image_with_trivial_frame(image, pose)
    if points is not None:
        for p, elements in enumerate(track_elements):
            track = pycolmap.Track()
            for image_id, idx in elements:
                track.add_element(image_id, idx)
            rec.add_point3D(points.xyz[p].astype(np.float64), track, points.rgb[p].astype(np.uint8))
    return rec


def write_model(folder: str | Path, cameras: CameraSet, points: SparseCloud | None = None, binary: bool = True) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rec = build_reconstruction(cameras, points)
    if binary:
        rec.write_binary(str(folder))
    else:
        rec.write_text(str(folder))
    return folder

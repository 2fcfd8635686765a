"""Similarity (Sim(3)) alignment of point and camera sets and the pose errors that remain after it.

Why: structure-from-motion recovers cameras only up to a similarity (gauge freedom: rotation,
translation, scale), so estimated poses can only be compared with reference poses after the
best similarity between the two camera sets has been removed. Umeyama's closed form on the
camera centres gives that similarity; rotation and centre errors are measured after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Similarity:
    """x_dst = scale * rotation @ x_src + translation."""

    scale: float
    rotation: np.ndarray
    translation: np.ndarray

    def apply_points(self, points: np.ndarray) -> np.ndarray:
        return self.scale * np.asarray(points) @ self.rotation.T + self.translation

    def apply_c2w(self, c2w: np.ndarray) -> np.ndarray:
        """Move camera-to-world poses into the destination frame (rotation and centre; no scale on axes)."""
        out = np.array(c2w, dtype=np.float64, copy=True)
        out[..., :3, :3] = self.rotation @ out[..., :3, :3]
        out[..., :3, 3] = self.apply_points(out[..., :3, 3])
        return out


def umeyama(src: np.ndarray, dst: np.ndarray) -> Similarity:
    """Least-squares similarity taking `src` (N, 3) onto `dst` (N, 3) (Umeyama 1991)."""
    src, dst = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 3 or len(src) < 3:
        raise ValueError(f"umeyama needs two (N>=3, 3) point sets of the same shape; got {src.shape}, {dst.shape}")
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.T @ xs / len(src)
    u, sigma, vt = np.linalg.svd(cov)
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1.0
    rotation = u @ sign @ vt
    var_s = (xs**2).sum() / len(src)
    scale = float(np.trace(np.diag(sigma) @ sign) / max(var_s, 1e-300))
    translation = mu_d - scale * rotation @ mu_s
    return Similarity(scale=scale, rotation=rotation, translation=translation)


def rotation_angle_deg(r_a: np.ndarray, r_b: np.ndarray) -> np.ndarray:
    """Angle of the relative rotation between stacks of rotations (..., 3, 3), in degrees."""
    rel = np.swapaxes(r_a, -1, -2) @ r_b
    cos = (np.trace(rel, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


@dataclass(frozen=True)
class PoseErrors:
    """Per-view errors after Sim(3) alignment of estimated cameras onto reference cameras.

    rotation_deg: (N,) angle between aligned and reference camera orientations.
    center_error: (N,) distance between aligned and reference centres, in reference units.
    extent: reference scene extent (largest distance between two reference centres), the unit
    in which `center_error / extent` is a relative error.
    """

    rotation_deg: np.ndarray
    center_error: np.ndarray
    extent: float
    alignment: Similarity

    @property
    def relative_center_error(self) -> np.ndarray:
        return self.center_error / self.extent

    def summary(self) -> dict[str, float]:
        return {
            "rotation_median_deg": float(np.median(self.rotation_deg)),
            "rotation_max_deg": float(np.max(self.rotation_deg)),
            "center_median_rel": float(np.median(self.relative_center_error)),
            "center_max_rel": float(np.max(self.relative_center_error)),
        }


def align_cameras(c2w_est: np.ndarray, c2w_ref: np.ndarray) -> Similarity:
    """Similarity taking estimated cameras onto reference cameras, using orientations and centres.

    Why not Umeyama on the centres alone: cameras on an arc or a line constrain the rotation
    about that arc poorly, so tiny centre errors tilt the whole set and show up as a rotation
    error of every view. The rotation is instead the chordal mean of R_ref_i R_est_i^T (every
    camera's orientation votes), and scale and translation are the least-squares fit of the
    centres given that rotation.
    """
    c2w_est, c2w_ref = np.asarray(c2w_est, dtype=np.float64), np.asarray(c2w_ref, dtype=np.float64)
    u, _, vt = np.linalg.svd((c2w_ref[:, :3, :3] @ np.swapaxes(c2w_est[:, :3, :3], -1, -2)).sum(axis=0))
    rotation = u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt
    src, dst = c2w_est[:, :3, 3], c2w_ref[:, :3, 3]
    xs, xd = (src - src.mean(axis=0)) @ rotation.T, dst - dst.mean(axis=0)
    scale = float((xs * xd).sum() / max((xs**2).sum(), 1e-300)) if len(src) > 1 else 1.0
    translation = dst.mean(axis=0) - scale * rotation @ src.mean(axis=0)
    return Similarity(scale=scale, rotation=rotation, translation=translation)


def pose_errors(c2w_est: np.ndarray, c2w_ref: np.ndarray) -> PoseErrors:
    """Align `c2w_est` (N, 4, 4) onto `c2w_ref` (`align_cameras`), then measure what is left.

    Both must be in the same camera-axis convention (OpenCV inside the project).
    """
    c2w_est, c2w_ref = np.asarray(c2w_est, dtype=np.float64), np.asarray(c2w_ref, dtype=np.float64)
    sim = align_cameras(c2w_est, c2w_ref)
    aligned = sim.apply_c2w(c2w_est)
    rot = rotation_angle_deg(aligned[:, :3, :3], c2w_ref[:, :3, :3])
    centers = c2w_ref[:, :3, 3]
    center_err = np.linalg.norm(aligned[:, :3, 3] - centers, axis=1)
    extent = float(np.max(np.linalg.norm(centers[:, None] - centers[None], axis=-1)))
    return PoseErrors(rotation_deg=rot, center_error=center_err, extent=max(extent, 1e-12), alignment=sim)


def continuous_blocks(c2w: np.ndarray, max_step_deg: float = 60.0, min_views: int = 3) -> list[np.ndarray]:
    """Index runs of a camera sequence (capture order, e.g. video frames) without orientation jumps.

    Why: a reference reconstruction can itself be folded (repetitive floors let COLMAP place a
    run of frames on the wrong side of an object); consecutive video frames never turn by tens
    of degrees, so a jump above `max_step_deg` marks a break. Runs shorter than `min_views`
    cannot be aligned and are dropped.
    """
    steps = rotation_angle_deg(c2w[:-1, :3, :3], c2w[1:, :3, :3])
    cuts = np.flatnonzero(steps > max_step_deg) + 1
    return [b for b in np.split(np.arange(len(c2w)), cuts) if len(b) >= min_views]


def blockwise_pose_errors(
    c2w_est: np.ndarray, c2w_ref: np.ndarray, max_step_deg: float = 60.0
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Pose errors with one Sim(3) per continuous block of the reference (`continuous_blocks`).

    Returns per-view rotation errors (degrees) and centre errors relative to the whole
    reference's extent, for the views in the blocks, and the blocks themselves.
    """
    blocks = continuous_blocks(c2w_ref, max_step_deg)
    centers = c2w_ref[:, :3, 3]
    extent = float(np.max(np.linalg.norm(centers[:, None] - centers[None], axis=-1)))
    rotation, center = [], []
    for block in blocks:
        errors = pose_errors(c2w_est[block], c2w_ref[block])
        rotation.append(errors.rotation_deg)
        center.append(errors.center_error / max(extent, 1e-12))
    return np.concatenate(rotation), np.concatenate(center), blocks

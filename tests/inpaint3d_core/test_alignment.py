"""Sim(3) alignment: exact recovery of a known similarity, and errors that measure what is left."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from inpaint3d_core.alignment import align_cameras, blockwise_pose_errors, pose_errors, rotation_angle_deg, umeyama
from inpaint3d_core.cameras import look_at


def _arc_cameras(n: int = 10) -> np.ndarray:
    angles = np.linspace(0.0, 2.0, n)
    return np.stack([look_at(np.array([3 * np.cos(a), 3 * np.sin(a), 1.0]), np.zeros(3)) for a in angles])


def _similarity(c2w: np.ndarray, scale: float, rot: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = c2w.copy()
    out[:, :3, :3] = rot @ c2w[:, :3, :3]
    out[:, :3, 3] = scale * c2w[:, :3, 3] @ rot.T + t
    return out


def test_umeyama_recovers_a_similarity_of_points():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(20, 3))
    rot = Rotation.from_rotvec([0.3, -0.5, 1.1]).as_matrix()
    dst = 2.5 * src @ rot.T + np.array([1.0, -2.0, 0.5])
    sim = umeyama(src, dst)
    assert np.isclose(sim.scale, 2.5)
    assert np.allclose(sim.rotation, rot)
    assert np.allclose(sim.apply_points(src), dst)


def test_pose_errors_vanish_for_cameras_related_by_a_similarity():
    ref = _arc_cameras()
    rot = Rotation.from_rotvec([1.0, 0.2, -0.4]).as_matrix()
    est = _similarity(ref, 0.3, rot.T, np.array([5.0, 1.0, -1.0]))
    errors = pose_errors(est, ref)
    assert errors.rotation_deg.max() < 1e-5  # arccos resolution near 0
    assert errors.relative_center_error.max() < 1e-9
    assert np.isclose(align_cameras(est, ref).scale, 1 / 0.3)


def test_pose_errors_report_a_perturbed_view():
    ref = _arc_cameras()
    est = ref.copy()
    est[3, :3, :3] = Rotation.from_rotvec([0.0, 0.0, np.radians(2.0)]).as_matrix() @ est[3, :3, :3]
    errors = pose_errors(est, ref)
    assert 1.5 < errors.rotation_deg[3] < 2.1
    assert np.median(errors.rotation_deg) < 0.3
    assert np.isclose(rotation_angle_deg(est[3, :3, :3], ref[3, :3, :3]), 2.0)


def test_blockwise_errors_split_a_folded_reference():
    est = _arc_cameras(12)
    ref = est.copy()
    flip = Rotation.from_rotvec([0.0, 0.0, np.pi]).as_matrix()  # frames 5..11 put on the far side
    ref[5:] = _similarity(est[5:], 1.0, flip, np.zeros(3))
    rotation, center, blocks = blockwise_pose_errors(est, ref)
    assert [b.tolist() for b in blocks] == [list(range(5)), list(range(5, 12))]
    assert rotation.max() < 1e-5 and center.max() < 1e-9
    assert pose_errors(est, ref).rotation_deg.max() > 90  # one alignment for all cannot fit

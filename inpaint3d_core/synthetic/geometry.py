"""Exact ray casting against the few primitives a synthetic scene is made of.

Rays share one origin (a pinhole camera) and have directions whose camera-z component is 1, so
the hit distance `t` IS the OpenCV z-depth: no conversion, no precision lost. Every function
returns `t` (inf where the ray misses) and unit outward normals (inward for the room).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def rotate(vectors: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """`vectors @ matrix.T` for (N, 3) arrays, without BLAS.

    Why: numpy hands (N, 3) @ (3, 3) to multi-threaded BLAS, which on a busy shared machine was
    15x slower than this single-threaded einsum (290 ms vs 19 ms for 262k vectors).
    """
    return np.einsum("ij,kj->ik", vectors, matrix)


def _yaw_matrix(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Sphere:
    center: np.ndarray
    radius: float

    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        oc = origin - self.center
        a = np.einsum("ij,ij->i", dirs, dirs)
        b = 2.0 * np.einsum("ij,j->i", dirs, oc)
        c = float(oc @ oc) - self.radius**2
        disc = b * b - 4.0 * a * c
        hit = disc >= 0.0
        t = np.full(len(dirs), np.inf)
        t[hit] = (-b[hit] - np.sqrt(disc[hit])) / (2.0 * a[hit])
        t[t <= 0.0] = np.inf
        normals = (origin + np.where(np.isfinite(t), t, 0.0)[:, None] * dirs - self.center) / self.radius
        return t, normals

    def contains(self, point: np.ndarray) -> bool:
        return bool(np.linalg.norm(point - self.center) < self.radius)


@dataclass(frozen=True)
class Box:
    """A box rotated by `yaw` about the vertical axis through its centre, seen from outside."""

    center: np.ndarray
    half_extents: np.ndarray
    yaw: float = 0.0

    @property
    def rotation(self) -> np.ndarray:
        return _yaw_matrix(self.yaw)

    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Furniture is axis-aligned: skipping the identity rotation saves two passes over the rays.
        rot = self.rotation if self.yaw else None
        o_local = origin - self.center if rot is None else rot.T @ (origin - self.center)
        d_local = dirs if rot is None else rotate(dirs, rot.T)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / d_local
            t_lo = (-self.half_extents - o_local) * inv
            t_hi = (self.half_extents - o_local) * inv
        t_near = np.minimum(t_lo, t_hi)
        t_enter = t_near.max(axis=1)
        hit = (t_enter <= np.maximum(t_lo, t_hi).min(axis=1)) & (t_enter > 0.0)
        t = np.where(hit, t_enter, np.inf)
        # Most rays miss a given box: normals only for the hits.
        rows = np.nonzero(hit)[0]
        axis = np.argmax(t_near[rows], axis=1)
        normals = np.zeros_like(dirs)
        normals[rows, axis] = -np.sign(d_local[rows, axis])
        if rot is not None:
            normals[rows] = rotate(normals[rows], rot)
        return t, normals

    def contains(self, point: np.ndarray) -> bool:
        local = self.rotation.T @ (point - self.center)
        return bool(np.all(np.abs(local) < self.half_extents))


@dataclass(frozen=True)
class Room:
    """An axis-aligned box seen from inside: every ray from inside hits exactly one face.

    Face ids: 0/1 = x low/high wall, 2/3 = y low/high wall, 4 = floor, 5 = ceiling.
    """

    low: np.ndarray
    high: np.ndarray

    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Returns t, inward normals and the face id of each ray's hit."""
        with np.errstate(divide="ignore", invalid="ignore"):
            t_axes = np.where(dirs > 0.0, (self.high - origin) / dirs, (self.low - origin) / dirs)
        t_axes = np.where(np.isfinite(t_axes) & (t_axes > 0.0), t_axes, np.inf)
        axis = np.argmin(t_axes, axis=1)
        rows = np.arange(len(dirs))
        t = t_axes[rows, axis]
        normals = np.zeros_like(dirs)
        normals[rows, axis] = -np.sign(dirs[rows, axis])
        face = 2 * axis + (dirs[rows, axis] > 0.0)
        return t, normals, face

    def contains(self, point: np.ndarray) -> bool:
        return bool(np.all(point > self.low) and np.all(point < self.high))

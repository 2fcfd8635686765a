"""Procedural surface textures: colour as a pure function of the 3D surface point.

Why a function of the point (not of the pixel): every view then sees exactly the same colour at
the same surface point, so reprojection between views is exact up to pixel sampling, and the
object-free ground truth is the same function evaluated without the object. Multi-octave value
noise gives detail at every scale (SIFT finds features from 48 px to 1024 px), thresholded noise
gives coloured patches with sharp corners, and bands give straight edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inpaint3d_core.synthetic.geometry import rotate
from inpaint3d_core.synthetic.patterns import NONE, PatternShader

_TABLE_BITS = 12
_HASH_PRIMES = (np.int64(73856093), np.int64(19349663), np.int64(83492791))
# Light direction for the view-independent Lambert term (from above, slightly to one side).
LIGHT_DIRECTION = np.array([0.35, 0.5, 0.8]) / np.linalg.norm([0.35, 0.5, 0.8])
AMBIENT = 0.45


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


class ValueNoise:
    """Seeded fractal value noise in 3D, values in [0, 1].

    Each octave doubles the frequency and is rotated at random so lattice axes never line up
    with the room's planes (which would show as grid artefacts on walls). `persistence` is the
    amplitude ratio between octaves: high values keep fine detail strong (SIFT needs it).
    """

    def __init__(self, rng: np.random.Generator, octaves: int, persistence: float):
        self.persistence = persistence
        self.table = rng.random(1 << _TABLE_BITS).astype(np.float32)
        self.rotations = [_random_rotation(rng) for _ in range(octaves)]

    def _lattice(self, p: np.ndarray) -> np.ndarray:
        cell = np.floor(p)
        frac = (p - cell).astype(np.float32)
        fade = frac * frac * (3.0 - 2.0 * frac)
        ix, iy, iz = (cell[:, k].astype(np.int64) for k in range(3))
        hx = (ix * _HASH_PRIMES[0], (ix + 1) * _HASH_PRIMES[0])
        hy = (iy * _HASH_PRIMES[1], (iy + 1) * _HASH_PRIMES[1])
        hz = (iz * _HASH_PRIMES[2], (iz + 1) * _HASH_PRIMES[2])
        wx = (1.0 - fade[:, 0], fade[:, 0])
        wy = (1.0 - fade[:, 1], fade[:, 1])
        wz = (1.0 - fade[:, 2], fade[:, 2])
        mask = (1 << _TABLE_BITS) - 1
        out = np.zeros(len(p), dtype=np.float32)
        for a in (0, 1):
            for b in (0, 1):
                hxy = hx[a] ^ hy[b]
                wxy = wx[a] * wy[b]
                for c in (0, 1):
                    h = hxy ^ hz[c]
                    out += wxy * wz[c] * self.table[(h ^ (h >> 13)) & mask]
        return out

    def __call__(self, points: np.ndarray, frequency: np.ndarray) -> np.ndarray:
        """Noise at (N, 3) points; `frequency` (N,) is the lowest octave's cycles per unit."""
        total = np.zeros(len(points), dtype=np.float32)
        norm = 0.0
        # float32 is ample for a smooth texture and halves the memory traffic of this hot loop.
        scaled = (points * frequency[:, None]).astype(np.float32)
        for octave, rotation in enumerate(self.rotations):
            amplitude = self.persistence**octave
            total += amplitude * self._lattice(rotate(scaled, (rotation * 2.0**octave).astype(np.float32)))
            norm += amplitude
        # Averaging octaves pulls values toward 0.5; stretch the contrast back out.
        return np.clip((total / norm - 0.5) * 2.2 + 0.5, 0.0, 1.0)


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    k = (np.array([5.0, 3.0, 1.0]) + h[..., None] * 6.0) % 6.0
    return v[..., None] - v[..., None] * s[..., None] * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


@dataclass(frozen=True)
class Materials:
    """Per-surface texture parameters (index = surface id), evaluated in one vectorised pass."""

    base: np.ndarray  # (S, 3) colour where the detail noise is low
    alt: np.ndarray  # (S, 3) colour where it is high
    patch: np.ndarray  # (S, 3) colour of the thresholded-noise patches
    frequency: np.ndarray  # (S,) lowest detail-noise frequency
    patch_frequency: np.ndarray  # (S,)
    patch_threshold: np.ndarray  # (S,) higher = fewer patches
    band_direction: np.ndarray  # (S, 3) unit normal of the band planes
    band_frequency: np.ndarray  # (S,) bands per unit
    band_strength: np.ndarray  # (S,) brightness change across a band, 0 = no bands
    offset: np.ndarray  # (S, 3) decorrelates surfaces sharing the noise functions

    @classmethod
    def random(cls, rng: np.random.Generator, n_surfaces: int, vivid: np.ndarray) -> Materials:
        """`vivid` (S,) bool marks surfaces (the object) that get saturated colours to stand out."""
        hue = rng.random((n_surfaces, 3))
        sat = np.where(vivid[:, None], rng.uniform(0.6, 0.9, (n_surfaces, 3)), rng.uniform(0.15, 0.6, (n_surfaces, 3)))
        # Base and alt differ in brightness, not only hue: SIFT sees grey levels.
        val = np.stack(
            [
                rng.uniform(0.15, 0.45, n_surfaces),
                rng.uniform(0.6, 0.95, n_surfaces),
                rng.uniform(0.1, 0.95, n_surfaces),
            ],
            axis=1,
        )
        colours = _hsv_to_rgb(hue, sat, val)
        direction = rng.normal(size=(n_surfaces, 3))
        return cls(
            base=colours[:, 0],
            alt=colours[:, 1],
            patch=colours[:, 2],
            frequency=rng.uniform(1.5, 3.0, n_surfaces),
            patch_frequency=rng.uniform(1.2, 2.5, n_surfaces),
            patch_threshold=rng.uniform(0.55, 0.7, n_surfaces),
            band_direction=direction / np.linalg.norm(direction, axis=1, keepdims=True),
            band_frequency=rng.uniform(1.5, 4.0, n_surfaces),
            band_strength=np.where(rng.random(n_surfaces) < 0.6, rng.uniform(0.1, 0.3, n_surfaces), 0.0),
            offset=rng.uniform(-100.0, 100.0, (n_surfaces, 3)),
        )


class SurfaceShader:
    """Colour of surface points: procedural albedo times a Lambert term of the surface normal.

    The shading depends on the normal only (no shadows, no view dependence), so removing the
    object changes no pixel outside the object's own footprint: the ground truth is exact.
    With `patterns`, surfaces given a structured kind (brick, stone, wood, foliage) take their
    albedo from it, grained by the fine detail noise; the others keep the noise texture.
    """

    def __init__(self, rng: np.random.Generator, materials: Materials, patterns: PatternShader | None = None):
        self.materials = materials
        self.detail = ValueNoise(rng, octaves=5, persistence=0.75)
        self.patches = ValueNoise(rng, octaves=3, persistence=0.5)
        self.patterns = patterns

    def albedo(self, points: np.ndarray, surface: np.ndarray) -> np.ndarray:
        m = self.materials
        p = points + m.offset[surface]
        mix = self.detail(p, m.frequency[surface])[:, None]
        colour = m.base[surface] * (1.0 - mix) + m.alt[surface] * mix
        patch_value = self.patches(p + 37.0, m.patch_frequency[surface])
        edge = np.clip((patch_value - m.patch_threshold[surface]) / 0.03, 0.0, 1.0)[:, None]
        colour = colour * (1.0 - edge) + m.patch[surface] * edge
        phase = np.einsum("ij,ij->i", points, m.band_direction[surface]) * m.band_frequency[surface]
        band = np.clip(np.sin(2.0 * np.pi * phase) * 4.0, -1.0, 1.0)
        return colour * (1.0 + m.band_strength[surface] * band)[:, None]

    def _structured_albedo(self, points: np.ndarray, normals: np.ndarray, surface: np.ndarray) -> np.ndarray:
        structured = self.patterns.materials.kind[surface] != NONE
        out = np.empty((len(points), 3))
        rest = np.flatnonzero(~structured)
        if len(rest):
            out[rest] = self.albedo(points[rest], surface[rest])
        sel = np.flatnonzero(structured)
        if len(sel):
            # Fine grain inside the elements: the detail noise at four times the surface's frequency.
            m = self.materials
            detail = self.detail(points[sel] + m.offset[surface[sel]], 4.0 * m.frequency[surface[sel]])
            out[sel] = self.patterns.albedo(points[sel], normals[sel], surface[sel], detail)
        return out

    def shade(self, points: np.ndarray, normals: np.ndarray, surface: np.ndarray) -> np.ndarray:
        """(N, 3) linear colours in [0, 1] for surface points with unit normals and surface ids."""
        lambert = np.clip(np.einsum("ij,j->i", normals, LIGHT_DIRECTION), 0.0, None)
        light = AMBIENT + (1.0 - AMBIENT) * lambert
        if self.patterns is None:
            albedo = self.albedo(points, surface)
        else:
            albedo = self._structured_albedo(points, normals, surface)
        return np.clip(albedo * light[:, None], 0.0, 1.0)

"""Structured procedural materials: brick, stone, wood and foliage, as functions of the surface point.

Why: noise alone has no edges or lines, and an inpainting method that only has to continue a
blur looks better than it is. Real captures (SPIn-NeRF's scenes: lawns, paving, walls, decks)
are made of elements with sharp borders: bricks with mortar lines, flagstones with dark gaps,
planks with seams and grain, overlapping leaves. Each pattern here is built from integer cells
of a 2D coordinate on the surface, so its edges are exact lines and corners, and every cell gets
its own seeded colour variation. Like the noise textures, colour depends on the 3D point only
(the same in every view), so the object-free ground truth stays exact.

Surface coordinates: planar surfaces of the scene are axis-aligned, so (u, v) are the two world
axes other than the normal's dominant one, with v = height on walls (brick courses and plank
seams run level) and a seeded rotation on floors and ceilings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NONE, BRICK, STONE, WOOD, FOLIAGE = range(5)
KIND_NAMES = ("none", "brick", "stone", "wood", "foliage")
_TABLE_BITS = 14
_PRIMES = (np.int64(73856093), np.int64(19349663), np.int64(83492791))


def _hsv(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    k = (np.array([5.0, 3.0, 1.0]) + np.asarray(h)[..., None] * 6.0) % 6.0
    v, s = np.asarray(v)[..., None], np.asarray(s)[..., None]
    return v - v * s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def _smoothstep(edge0: float | np.ndarray, edge1: float | np.ndarray, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


# Colour ranges per kind (hue, saturation, value) for the element colour, and the line / gap colour.
_PALETTES = {
    BRICK: {"element": ((-0.02, 0.08), (0.45, 0.75), (0.45, 0.75)), "line": ((0.05, 0.15), (0.03, 0.15), (0.7, 0.88))},
    STONE: {"element": ((0.04, 0.16), (0.05, 0.3), (0.5, 0.8)), "line": ((0.05, 0.12), (0.1, 0.3), (0.1, 0.22))},
    WOOD: {"element": ((0.05, 0.1), (0.4, 0.7), (0.5, 0.78)), "line": ((0.05, 0.09), (0.5, 0.7), (0.12, 0.22))},
    FOLIAGE: {"element": ((0.2, 0.36), (0.45, 0.85), (0.35, 0.7)), "line": ((0.25, 0.35), (0.4, 0.7), (0.05, 0.12))},
}
# Element size (units) per kind: brick length, stone cell, plank width, leaf cell.
_SCALES = {BRICK: (0.18, 0.3), STONE: (0.12, 0.3), WOOD: (0.1, 0.2), FOLIAGE: (0.035, 0.07)}


@dataclass(frozen=True)
class PatternMaterials:
    """Per-surface structured patterns (index = surface id); kind NONE keeps the noise texture."""

    kind: np.ndarray  # (S,) int: NONE, BRICK, STONE, WOOD, FOLIAGE
    scale: np.ndarray  # (S,) element size in scene units
    element: np.ndarray  # (S, 3) base colour of the elements (bricks, stones, planks, leaves)
    alternate: np.ndarray  # (S, 3) second element colour (grain, second leaf colour, weathered stones)
    line: np.ndarray  # (S, 3) colour of mortar / gaps / seams / shadow between leaves
    line_width: np.ndarray  # (S,) width of mortar, gaps and seams as a fraction of the element size
    aspect: np.ndarray  # (S,) brick height / length; plank length / width
    angle: np.ndarray  # (S,) rotation of the pattern on floors and ceilings (radians)
    shift: np.ndarray  # (S, 2) offset of the pattern in (u, v)
    salt: np.ndarray  # (S,) int decorrelating the cell hashes of surfaces with the same kind

    @classmethod
    def random(cls, rng: np.random.Generator, kinds: np.ndarray) -> PatternMaterials:
        """Seeded parameters for surfaces of the given kinds (NONE entries are placeholders)."""
        n = len(kinds)
        element, alternate, line = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 3))
        scale = np.ones(n)
        for i, kind in enumerate(kinds):
            if kind == NONE:
                continue
            palette = _PALETTES[int(kind)]
            hsv = [rng.uniform(*r) for r in palette["element"]]
            element[i] = _hsv(hsv[0] % 1.0, hsv[1], hsv[2])
            alternate[i] = _hsv((hsv[0] + rng.uniform(-0.05, 0.05)) % 1.0, hsv[1] * 0.9, hsv[2] * rng.uniform(0.5, 0.7))
            line[i] = _hsv(*[rng.uniform(*r) for r in palette["line"]])
            scale[i] = rng.uniform(*_SCALES[int(kind)])
        return cls(
            kind=np.asarray(kinds, dtype=np.int64),
            scale=scale,
            element=element,
            alternate=alternate,
            line=line,
            line_width=rng.uniform(0.05, 0.1, n),
            aspect=np.where(np.asarray(kinds) == BRICK, rng.uniform(0.3, 0.45, n), rng.uniform(4.0, 8.0, n)),
            angle=rng.uniform(0.0, np.pi, n),
            shift=rng.uniform(-50.0, 50.0, (n, 2)),
            salt=rng.integers(0, 1 << 20, n),
        )


class PatternShader:
    """Albedo of structured surfaces; `detail` (N,) in [0, 1] is the noise texture's fine detail,
    used to give every element a surface grain (and SIFT corners inside the elements)."""

    def __init__(self, rng: np.random.Generator, materials: PatternMaterials):
        self.materials = materials
        self.table = rng.random(1 << _TABLE_BITS)

    def _hash(self, i: np.ndarray, j: np.ndarray, salt: np.ndarray) -> np.ndarray:
        """Index into the random table for integer cells (i, j) of a surface."""
        h = (i * _PRIMES[0]) ^ (j * _PRIMES[1]) ^ (salt * _PRIMES[2])
        return (h ^ (h >> 15)) & ((1 << _TABLE_BITS) - 1)

    def _random(self, i: np.ndarray, j: np.ndarray, salt: np.ndarray, stream: int = 0) -> np.ndarray:
        return self.table[self._hash(i, j, salt + 7919 * stream)]

    def surface_uv(self, points: np.ndarray, normals: np.ndarray, surface: np.ndarray) -> np.ndarray:
        """(N, 2) pattern coordinates in units of each surface's element size."""
        m = self.materials
        axis = np.argmax(np.abs(normals), axis=1)
        u = np.where(axis == 0, points[:, 1], points[:, 0])
        v = np.where(axis == 2, points[:, 1], points[:, 2])
        level = axis == 2  # floors, ceilings and box tops: rotate the pattern
        c, s = np.cos(m.angle[surface]), np.sin(m.angle[surface])
        u, v = np.where(level, c * u - s * v, u), np.where(level, s * u + c * v, v)
        return (np.stack([u, v], axis=1) + m.shift[surface]) / m.scale[surface][:, None]

    def albedo(self, points: np.ndarray, normals: np.ndarray, surface: np.ndarray, detail: np.ndarray) -> np.ndarray:
        """(N, 3) albedo of points on structured surfaces (every surface[i] must have a kind)."""
        m = self.materials
        uv = self.surface_uv(points, normals, surface)
        kinds = m.kind[surface]
        out = np.empty((len(points), 3))
        for kind, pattern in ((BRICK, self._brick), (STONE, self._stone), (WOOD, self._wood), (FOLIAGE, self._foliage)):
            sel = np.flatnonzero(kinds == kind)
            if len(sel):
                out[sel] = pattern(uv[sel], surface[sel], detail[sel])
        return out

    def _brick(self, uv: np.ndarray, surface: np.ndarray, detail: np.ndarray) -> np.ndarray:
        """Running bond: courses of height `aspect`, every other course shifted by half a brick."""
        m = self.materials
        height = m.aspect[surface]
        row = np.floor(uv[:, 1] / height)
        u = uv[:, 0] + 0.5 * (row % 2)
        col = np.floor(u)
        fu, fv = u - col, uv[:, 1] / height - row
        # Distance to the brick's border in element units (vertical joints and course joints).
        edge = np.minimum(np.minimum(fu, 1.0 - fu), np.minimum(fv, 1.0 - fv) * height)
        half = 0.5 * m.line_width[surface] * 0.5
        mortar = 1.0 - _smoothstep(half, half + 0.01, edge)
        salt = m.salt[surface]
        i, j = col.astype(np.int64), row.astype(np.int64)
        tone = 0.75 + 0.5 * self._random(i, j, salt)
        weathered = self._random(i, j, salt, 1)[:, None]
        brick = m.element[surface] * (1.0 - 0.6 * weathered) + m.alternate[surface] * (0.6 * weathered)
        brick = brick * (tone * (0.75 + 0.5 * detail))[:, None]
        mortar_colour = m.line[surface] * (0.85 + 0.3 * detail)[:, None]
        return brick * (1.0 - mortar[:, None]) + mortar_colour * mortar[:, None]

    def _cells(self, uv: np.ndarray, salt: np.ndarray) -> tuple[np.ndarray, ...]:
        """Jittered-grid Worley cells: F1, F2 distances, the nearest feature's cell and its offset."""
        iu, iv = np.floor(uv[:, 0]).astype(np.int64), np.floor(uv[:, 1]).astype(np.int64)
        f1 = np.full(len(uv), np.inf)
        f2 = np.full(len(uv), np.inf)
        best_i, best_j = iu.copy(), iv.copy()
        best_d = np.zeros_like(uv)
        for du in (-1, 0, 1):
            for dv in (-1, 0, 1):
                ci, cj = iu + du, iv + dv
                fx = ci + 0.1 + 0.8 * self._random(ci, cj, salt, 2)
                fy = cj + 0.1 + 0.8 * self._random(ci, cj, salt, 3)
                d = np.stack([uv[:, 0] - fx, uv[:, 1] - fy], axis=1)
                dist = np.hypot(d[:, 0], d[:, 1])
                closer = dist < f1
                f2 = np.where(closer, f1, np.minimum(f2, dist))
                f1 = np.where(closer, dist, f1)
                best_i, best_j = np.where(closer, ci, best_i), np.where(closer, cj, best_j)
                best_d[closer] = d[closer]
        return f1, f2, best_i, best_j, best_d

    def _stone(self, uv: np.ndarray, surface: np.ndarray, detail: np.ndarray) -> np.ndarray:
        """Flagstones / cobbles: Voronoi cells with dark gaps where two cells meet, bevelled edges."""
        m = self.materials
        salt = m.salt[surface]
        f1, f2, ci, cj, _ = self._cells(uv, salt)
        border = f2 - f1  # 0 on the line between two cells
        width = m.line_width[surface]
        gap = 1.0 - _smoothstep(width, width + 0.04, border)
        bevel = 0.7 + 0.3 * _smoothstep(width, width + 0.25, border)
        tone = 0.7 + 0.6 * self._random(ci, cj, salt)
        mix = self._random(ci, cj, salt, 1)[:, None]
        stone = m.element[surface] * (1.0 - mix) + m.alternate[surface] * mix
        stone = stone * (tone * bevel * (0.7 + 0.6 * detail))[:, None]
        gap_colour = m.line[surface] * (0.8 + 0.4 * detail)[:, None]
        return stone * (1.0 - gap[:, None]) + gap_colour * gap[:, None]

    def _wood(self, uv: np.ndarray, surface: np.ndarray, detail: np.ndarray) -> np.ndarray:
        """Planks of width 1 and length `aspect` with staggered end joints, dark seams and grain."""
        m = self.materials
        salt = m.salt[surface]
        plank = np.floor(uv[:, 1])
        j = plank.astype(np.int64)
        length = m.aspect[surface]
        along = uv[:, 0] / length + self._random(j, j, salt, 4)
        piece = np.floor(along)
        i = piece.astype(np.int64)
        fv, fu = uv[:, 1] - plank, (along - piece) * length
        edge = np.minimum(np.minimum(fv, 1.0 - fv), np.minimum(fu, length - fu))
        half = 0.5 * m.line_width[surface] * 0.4
        seam = 1.0 - _smoothstep(half, half + 0.02, edge)
        # Grain: growth rings cut along the board, wobbling with position along it.
        phase = self._random(i, j, salt, 5) * 10.0
        wobble = 0.15 * np.sin(2.0 * np.pi * (fu * 0.35 + phase)) + 0.1 * detail
        rings = 0.5 + 0.5 * np.sin(2.0 * np.pi * (fv * (6.0 + 6.0 * self._random(i, j, salt, 6)) + wobble + phase))
        grain = (rings**3)[:, None]
        tone = 0.8 + 0.4 * self._random(i, j, salt)
        wood = m.element[surface] * (1.0 - grain) + m.alternate[surface] * grain
        wood = wood * (tone * (0.85 + 0.3 * detail))[:, None]
        return wood * (1.0 - seam[:, None]) + m.line[surface] * seam[:, None]

    def _foliage(self, uv: np.ndarray, surface: np.ndarray, detail: np.ndarray) -> np.ndarray:
        """Overlapping leaves: one elliptic leaf per cell at a seeded angle; where several cover a
        point the one with the highest seeded depth order shows; a darker midrib along each leaf;
        shadow where none covers."""
        m = self.materials
        salt = m.salt[surface]
        iu, iv = np.floor(uv[:, 0]).astype(np.int64), np.floor(uv[:, 1]).astype(np.int64)
        top = np.full(len(uv), -1.0)
        colour_mix = np.zeros(len(uv))
        shade = np.zeros(len(uv))
        for du in (-1, 0, 1):
            for dv in (-1, 0, 1):
                ci, cj = iu + du, iv + dv
                fx = ci + self._random(ci, cj, salt, 2)
                fy = cj + self._random(ci, cj, salt, 3)
                theta = np.pi * self._random(ci, cj, salt, 4)
                dx, dy = uv[:, 0] - fx, uv[:, 1] - fy
                along = np.cos(theta) * dx + np.sin(theta) * dy
                across = -np.sin(theta) * dx + np.cos(theta) * dy
                # Leaf outline: pointed ellipse (narrower toward the tips).
                a = 0.95
                b = 0.42 * np.sqrt(np.clip(1.0 - (along / a) ** 2, 0.0, 1.0))
                inside = (np.abs(along) < a) & (np.abs(across) < b)
                order = self._random(ci, cj, salt, 5)
                wins = inside & (order > top)
                top = np.where(wins, order, top)
                colour_mix = np.where(wins, self._random(ci, cj, salt, 6), colour_mix)
                # Lighter toward the midrib's sides, a thin dark line on it, darker at the rim.
                rim = np.abs(across) / np.maximum(b, 1e-6)
                rib = 1.0 - 0.35 * (1.0 - _smoothstep(0.0, 0.03, np.abs(across)))
                shade = np.where(wins, (0.65 + 0.45 * (1.0 - rim**2)) * rib, shade)
        covered = (top >= 0.0)[:, None]
        leaf = m.element[surface] * (1.0 - colour_mix[:, None]) + m.alternate[surface] * colour_mix[:, None]
        leaf = leaf * (shade * (0.85 + 0.3 * detail))[:, None]
        return np.where(covered, leaf, m.line[surface] * (0.7 + 0.6 * detail)[:, None])

"""Clutter behind the removable object: boxes, wall panels and poles at several depths.

Why: mask propagation picks the object's 3D points inside the reference mask's viewing cone,
and what stands a little behind the object in that cone (a crate, a partition, a lamp pole) is
exactly what it must *not* pick. The plain room puts nothing there but the distant walls, so
it cannot catch that failure; real captures (a workshop behind a turntable, shelves behind a
plant) are full of it. Clutter stands on the floor on the far side of the object from the
middle of the camera arc (or, for forward-facing paths, from the cameras), spread over
`CLUTTER_SPREAD_DEGREES` of azimuth and at three depth bands, so every view sees some of it
right behind or beside the object, and none of it stands between a camera and the object.
"""

from __future__ import annotations

import numpy as np

from inpaint3d_core.synthetic.geometry import Box

# Azimuth range (degrees either side of the direction straight behind the object) clutter covers.
CLUTTER_SPREAD_DEGREES = 80.0
# Distance bands from the object's centre, in object sizes: just behind, a little further, far.
_DEPTH_BANDS = ((1.4, 2.0), (2.0, 3.0), (3.0, 4.2))
KINDS = ("box", "wall", "pole")


def clutter_boxes(
    n: int, behind_degrees: float, object_size: float, max_distance: float, rng: np.random.Generator
) -> list[Box]:
    """`n` solids on the floor (z = 0) behind the object at the origin.

    behind_degrees: azimuth (degrees from +x toward +y) of the direction straight behind the
    object as the cameras see it; object_size: the object's typical half-extent (clutter sizes
    and distances scale with it); max_distance: no solid reaches farther from the origin than
    this (keeps clutter clear of cameras and furniture). Kinds and depth bands cycle (box,
    wall, pole; near, mid, far), so even three pieces hold one of each.
    """
    solids = []
    spread = np.linspace(-CLUTTER_SPREAD_DEGREES, CLUTTER_SPREAD_DEGREES, n) if n > 1 else np.zeros(1)
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        lo, hi = _DEPTH_BANDS[(i // len(KINDS) + i) % len(_DEPTH_BANDS)]
        azimuth = np.radians(behind_degrees + spread[i] + rng.uniform(-8.0, 8.0))
        if kind == "box":
            half = object_size * rng.uniform([0.4, 0.4, 0.4], [0.9, 0.9, 1.1])
        elif kind == "wall":  # a thin panel facing the object
            half = object_size * np.array([rng.uniform(0.05, 0.1), rng.uniform(0.8, 1.6), rng.uniform(1.2, 2.5)])
        else:  # a thin, tall pole
            half = object_size * np.array([rng.uniform(0.08, 0.15), rng.uniform(0.08, 0.15), rng.uniform(2.0, 3.5)])
        reach = float(np.linalg.norm(half[:2]))
        distance = min(object_size * rng.uniform(lo, hi) + reach, max_distance - reach)
        center = np.array([distance * np.cos(azimuth), distance * np.sin(azimuth), half[2]])
        # Panels face the object; boxes and poles turn at random.
        yaw = float(azimuth) if kind == "wall" else float(rng.uniform(0.0, np.pi / 2))
        solids.append(Box(center, half, yaw))
    return solids

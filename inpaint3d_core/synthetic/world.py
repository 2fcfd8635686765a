"""The synthetic world: a furnished, textured room plus one removable object, rendered exactly.

Rendering casts `supersample`^2 rays per pixel for colour (box-filtered, so textures do not
alias at 48 px) and one ray through each pixel centre for z-depth. The object mask marks every
pixel where ANY of its rays sees the object first; hence outside the mask the with-object and
object-free images are bit-for-bit identical, which makes removal ground truth exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from inpaint3d_core.synthetic.clutter import clutter_boxes
from inpaint3d_core.synthetic.config import MAX_FURNITURE_DEPTH, TABLE_HALF_WIDTH, SyntheticConfig
from inpaint3d_core.synthetic.geometry import Box, Room, Sphere, rotate
from inpaint3d_core.synthetic.patterns import BRICK, FOLIAGE, NONE, STONE, WOOD, PatternMaterials, PatternShader
from inpaint3d_core.synthetic.texture import Materials, SurfaceShader

ROOM_FACES = 6
# Fine rays per chunk: bounds memory at 1024 px with supersampling (about 100 MB per chunk).
_CHUNK_RAYS = 1 << 18


def seeded_rng(seed: int, stream: int) -> np.random.Generator:
    """Independent random streams per purpose, so e.g. changing n_views leaves textures unchanged."""
    return np.random.default_rng([seed, stream])


@dataclass(frozen=True)
class SyntheticObject:
    """The removable object, in world coordinates (z up, standing on the floor at the origin)."""

    kind: Literal["sphere", "box"]
    center: np.ndarray
    radius: float | None = None
    half_extents: np.ndarray | None = None
    yaw: float = 0.0

    @property
    def shape(self) -> Sphere | Box:
        if self.kind == "sphere":
            return Sphere(self.center, float(self.radius))
        return Box(self.center, self.half_extents, self.yaw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "center": [float(v) for v in self.center],
            "radius": None if self.radius is None else float(self.radius),
            "half_extents": None if self.half_extents is None else [float(v) for v in self.half_extents],
            "yaw": float(self.yaw),
        }

    @classmethod
    def from_config(cls, config: SyntheticConfig) -> SyntheticObject:
        rng = seeded_rng(config.seed, 1)
        base = config.table_height
        if config.object_type == "sphere":
            return cls("sphere", np.array([0.0, 0.0, base + config.object_size]), radius=config.object_size)
        half = config.object_size * rng.uniform([0.8, 0.6, 0.8], [1.2, 1.0, 1.3])
        center = np.array([0.0, 0.0, base + half[2]])
        return cls("box", center, half_extents=half, yaw=float(rng.uniform(0.0, np.pi / 2)))


@dataclass
class ViewRender:
    """One rendered view: with and without the object."""

    rgb: np.ndarray  # (H, W, 3) uint8, with the object
    gt_rgb: np.ndarray  # (H, W, 3) uint8, object removed
    depth: np.ndarray  # (H, W) float32 z-depth, with the object
    gt_depth: np.ndarray  # (H, W) float32 z-depth, object removed
    mask: np.ndarray  # (H, W) uint8 0/1, pixels where any of their rays sees the object first


def _furniture(config: SyntheticConfig, rng: np.random.Generator) -> list[Box]:
    """Boxes standing on the floor flush against random walls: steps, cabinets, shelves."""
    w = config.room_half_width
    boxes = []
    for _ in range(config.n_furniture):
        axis = int(rng.integers(2))
        side = float(rng.choice([-1.0, 1.0]))
        half = np.empty(3)
        half[axis] = rng.uniform(0.15, MAX_FURNITURE_DEPTH / 2)
        half[1 - axis] = rng.uniform(0.2, 0.6)
        half[2] = rng.uniform(0.1, 0.7)
        center = np.empty(3)
        center[axis] = side * (w - half[axis])
        center[1 - axis] = rng.uniform(-w + half[1 - axis], w - half[1 - axis])
        center[2] = half[2]
        boxes.append(Box(center, half))
    return boxes


def _structured_kinds(rng: np.random.Generator, n_surfaces: int, object_id: int) -> np.ndarray:
    """Pattern kind per surface: each wall and the floor drawn from all four, the ceiling wood or
    stone, furniture wood, stone or brick; the object keeps its noise texture (NONE)."""
    all_kinds = [BRICK, STONE, WOOD, FOLIAGE]
    kinds = np.full(n_surfaces, NONE)
    kinds[:4] = rng.choice(all_kinds, 4)
    kinds[4] = rng.choice(all_kinds)
    kinds[5] = rng.choice([WOOD, STONE])
    kinds[ROOM_FACES:object_id] = rng.choice([WOOD, STONE, BRICK], object_id - ROOM_FACES)
    return kinds


def _clutter(config: SyntheticConfig) -> list[Box]:
    """`config.n_clutter` solids behind the object, clear of the cameras (none by default)."""
    if config.n_clutter == 0:
        return []
    camera_clearance = config.radius * (1.0 - 4.0 * config.jitter) - 0.15
    return clutter_boxes(
        config.n_clutter,
        config.arc_center_degrees + 180.0,
        config.object_size,
        min(camera_clearance, config.room_half_width - MAX_FURNITURE_DEPTH - 0.1),
        seeded_rng(config.seed, 4),
    )


class SyntheticWorld:
    """Geometry and materials of one seeded scene. Surface ids: room faces 0-5, furniture, clutter, object last."""

    def __init__(self, config: SyntheticConfig):
        self.config = config
        w = config.room_half_width
        self.room = Room(np.array([-w, -w, 0.0]), np.array([w, w, config.room_height]))
        # Clutter shades and intersects like furniture; kept apart so tests can tell which is which.
        self.furniture = _furniture(config, seeded_rng(config.seed, 0))
        if config.table_height > 0.0:  # the object's support counts as furniture (after the drawn boxes)
            half = TABLE_HALF_WIDTH * config.object_size
            table = Box(np.array([0.0, 0.0, config.table_height / 2]), np.array([half, half, config.table_height / 2]))
            self.furniture.append(table)
        self.clutter = _clutter(config)
        self.object = SyntheticObject.from_config(config)
        n_surfaces = ROOM_FACES + len(self.furniture) + len(self.clutter) + 1
        self.object_id = n_surfaces - 1
        texture_rng = seeded_rng(config.seed, 3)
        vivid = np.arange(n_surfaces) == self.object_id
        patterns = None
        if config.textures == "structured":  # its own stream: the noise textures stay as they were
            pattern_rng = seeded_rng(config.seed, 5)
            kinds = _structured_kinds(pattern_rng, n_surfaces, self.object_id)
            patterns = PatternShader(pattern_rng, PatternMaterials.random(pattern_rng, kinds))
        self.shader = SurfaceShader(texture_rng, Materials.random(texture_rng, n_surfaces, vivid), patterns)

    def is_free(self, point: np.ndarray) -> bool:
        """True when a camera may stand at `point` (inside the room, outside every solid)."""
        solids = [*self.furniture, *self.clutter, self.object.shape]
        return self.room.contains(point) and not any(s.contains(point) for s in solids)

    def cast_background(self, origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """First hit of each ray in the object-free world: t (z-depth), unit normals, surface ids."""
        t, normals, surface = self.room.intersect(origin, dirs)
        for index, box in enumerate([*self.furniture, *self.clutter]):
            t_box, n_box = box.intersect(origin, dirs)
            closer = t_box < t
            t = np.where(closer, t_box, t)
            normals[closer] = n_box[closer]
            surface[closer] = ROOM_FACES + index
        return t, normals, surface

    def _chunk(self, origin: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Background colour, with-object colour, background depth and object depth of rays."""
        t, normals, surface = self.cast_background(origin, dirs)
        background = self.shader.shade(origin + t[:, None] * dirs, normals, surface)
        t_obj, n_obj = self.object.shape.intersect(origin, dirs)
        first = t_obj < t
        with_object = background.copy()
        if first.any():
            points = origin + t_obj[first, None] * dirs[first]
            ids = np.full(int(first.sum()), self.object_id)
            with_object[first] = self.shader.shade(points, n_obj[first], ids)
        return background, with_object, t, t_obj

    def render(self, K: np.ndarray, c2w: np.ndarray, width: int, height: int, supersample: int = 1) -> ViewRender:
        """Render one pinhole view (OpenCV K and camera-to-world) with and without the object."""
        ss = int(supersample)
        rotation, origin = c2w[:3, :3], c2w[:3, 3]

        def rays(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
            return camera_rays(K, rotation, xs, ys)

        fine_x, fine_y = fine_pixel_coordinates(width, height, ss)
        rows_per_chunk = fine_rows_per_chunk(width, ss)
        gt_parts, rgb_parts, mask_parts, gt_depth_parts, obj_depth_parts = [], [], [], [], []
        for start in range(0, height * ss, rows_per_chunk):
            ys = fine_y[start : start + rows_per_chunk]
            background, with_object, t, t_obj = self._chunk(origin, rays(fine_x, ys))
            shape = (len(ys) // ss, ss, width, ss)
            gt_parts.append(background.reshape(*shape, 3).mean(axis=(1, 3)))
            rgb_parts.append(with_object.reshape(*shape, 3).mean(axis=(1, 3)))
            mask_parts.append((t_obj < t).reshape(shape).any(axis=(1, 3)))
            gt_depth_parts.append(t)
            obj_depth_parts.append(t_obj)

        if ss == 1:  # the colour rays went through the pixel centres already
            gt_depth, t_obj = np.concatenate(gt_depth_parts), np.concatenate(obj_depth_parts)
        else:
            centre = rays(np.arange(width) + 0.5, np.arange(height) + 0.5)
            gt_depth, _, _ = self.cast_background(origin, centre)
            t_obj, _ = self.object.shape.intersect(origin, centre)
        depth = np.minimum(gt_depth, t_obj)
        return ViewRender(
            rgb=_to_uint8(np.concatenate(rgb_parts)),
            gt_rgb=_to_uint8(np.concatenate(gt_parts)),
            depth=depth.reshape(height, width).astype(np.float32),
            gt_depth=gt_depth.reshape(height, width).astype(np.float32),
            mask=np.concatenate(mask_parts).astype(np.uint8),
        )


def camera_rays(K: np.ndarray, rotation: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """World ray directions (camera z = 1) through the pixel positions xs x ys (row-major)."""
    gx, gy = np.meshgrid(xs, ys)
    cam = np.stack([(gx - K[0, 2]) / K[0, 0], (gy - K[1, 2]) / K[1, 1], np.ones_like(gx)], axis=-1)
    return rotate(cam.reshape(-1, 3), rotation)


def fine_pixel_coordinates(width: int, height: int, supersample: int) -> tuple[np.ndarray, np.ndarray]:
    """x and y positions of the supersampled rays: `supersample` per pixel side, evenly inside it."""
    ss = int(supersample)
    return (np.arange(width * ss) + 0.5) / ss, (np.arange(height * ss) + 0.5) / ss


def fine_rows_per_chunk(width: int, supersample: int) -> int:
    """Fine-ray rows cast together (a whole number of pixel rows, about _CHUNK_RAYS rays)."""
    return max(1, _CHUNK_RAYS // (width * supersample * supersample)) * supersample


def _to_uint8(colour: np.ndarray) -> np.ndarray:
    return np.round(np.clip(colour, 0.0, 1.0) * 255.0).astype(np.uint8)

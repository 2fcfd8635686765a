"""Generating a synthetic capture: cameras on an arc around the object or on a forward-facing
handheld patch in front of it, every view rendered with and without the object, and exact 3D
points sampled from the scene for tests and stores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from inpaint3d_core.cameras import Cameras, intrinsics, look_at
from inpaint3d_core.errors import InputError
from inpaint3d_core.synthetic.config import FORWARD_DEPTH_SWING, FORWARD_PATCH_HALF, SyntheticConfig
from inpaint3d_core.synthetic.geometry import rotate
from inpaint3d_core.synthetic.world import SyntheticObject, SyntheticWorld, seeded_rng


@dataclass
class SyntheticScene:
    """A rendered synthetic capture with exact ground truth, in world coordinates (z up).

    Arrays are stacked over views: images/gt_images (N, H, W, 3) uint8 with/without the object,
    depth/gt_depth (N, H, W) float32 OpenCV z-depth at pixel centres with/without the object,
    masks (N, H, W) uint8 0/1 (pixels where any of the pixel's rays sees the object first, so
    images and gt_images agree exactly outside them). `world` renders any other camera.
    """

    config: SyntheticConfig
    world: SyntheticWorld
    cameras: Cameras
    images: np.ndarray
    gt_images: np.ndarray
    depth: np.ndarray
    gt_depth: np.ndarray
    masks: np.ndarray

    @property
    def object(self) -> SyntheticObject:
        return self.world.object

    @property
    def names(self) -> list[str]:
        """File stems of the views (`view_000`, ...)."""
        return [f"view_{i:03d}" for i in range(len(self.cameras))]

    def __len__(self) -> int:
        return len(self.cameras)


def arc_cameras(config: SyntheticConfig, target: np.ndarray) -> Cameras:
    """Cameras evenly spread over the arc (a full orbit when arc_degrees is 360), all facing
    `target`, with seeded jitter of positions and aim so views are not perfectly regular."""
    n = config.n_views
    if config.arc_degrees >= 360.0:
        offsets = np.linspace(-180.0, 180.0, n, endpoint=False)
    else:
        offsets = np.linspace(-config.arc_degrees / 2.0, config.arc_degrees / 2.0, n) if n > 1 else np.zeros(1)
    azimuth = np.radians(config.arc_center_degrees + offsets)
    rng = seeded_rng(config.seed, 2)
    sigma = config.jitter * config.radius
    c2w = np.empty((n, 4, 4))
    for i, phi in enumerate(azimuth):
        eye = np.array([config.radius * np.cos(phi), config.radius * np.sin(phi), config.camera_height])
        c2w[i] = look_at(eye + rng.normal(0.0, sigma, 3), target + rng.normal(0.0, sigma, 3))
    K = np.repeat(intrinsics(config.focal, config.width, config.height)[None], n, axis=0)
    return Cameras(K=K, c2w=c2w, width=np.full(n, config.width), height=np.full(n, config.height))


def forward_cameras(config: SyntheticConfig, target: np.ndarray) -> Cameras:
    """A forward-facing handheld capture (LLFF / SPIn-NeRF-like): cameras along a continuous
    spiral over a small patch around the point at distance `radius` and azimuth
    arc_center_degrees, each aimed at `target` with seeded jitter of position, aim and roll
    (the roll's spread in radians equals `jitter`, about a degree by default).

    The patch spans baseline x radius sideways and 0.6 of that vertically (FORWARD_PATCH_HALF),
    in the plane facing the object, with a small forward/backward swing. The spiral's radius
    grows as the square root of the path position, so consecutive cameras are neighbours (as
    in a sweep by hand) and the patch is covered evenly: test views interleaved along the path
    sit between training views, never on them.
    """
    n = config.n_views
    phi = np.radians(config.arc_center_degrees)
    centre = np.array([config.radius * np.cos(phi), config.radius * np.sin(phi), config.camera_height])
    frame = look_at(centre, target)
    right, up, forward = frame[:3, 0], -frame[:3, 1], frame[:3, 2]
    s = (np.arange(n) + 0.5) / n
    turns = max(1.0, n / 20.0)  # about 20 cameras per turn, as a handheld sweep
    angle = 2.0 * np.pi * turns * s
    half = FORWARD_PATCH_HALF * config.baseline * config.radius
    offsets = np.sqrt(s)[:, None] * np.stack([half[0] * np.cos(angle), half[1] * np.sin(angle)], axis=1)
    swing = FORWARD_DEPTH_SWING * config.radius * np.sin(2.0 * np.pi * s)
    rng = seeded_rng(config.seed, 2)
    sigma = config.jitter * config.radius
    c2w = np.empty((n, 4, 4))
    for i in range(n):
        eye = centre + offsets[i, 0] * right + offsets[i, 1] * up + swing[i] * forward
        c2w[i] = look_at(eye + rng.normal(0.0, sigma, 3), target + rng.normal(0.0, sigma, 3))
        roll = rng.normal(0.0, config.jitter)
        c, r = np.cos(roll), np.sin(roll)
        c2w[i, :3, :2] = c2w[i, :3, :2] @ np.array([[c, r], [-r, c]])
    K = np.repeat(intrinsics(config.focal, config.width, config.height)[None], n, axis=0)
    return Cameras(K=K, c2w=c2w, width=np.full(n, config.width), height=np.full(n, config.height))


def scene_cameras(config: SyntheticConfig, target: np.ndarray) -> Cameras:
    """The cameras of config.trajectory, aimed at `target`."""
    return forward_cameras(config, target) if config.trajectory == "forward" else arc_cameras(config, target)


def generate_scene(config: SyntheticConfig) -> SyntheticScene:
    """Build the seeded world, place the cameras and render every view (deterministic in config)."""
    world = SyntheticWorld(config)
    cameras = scene_cameras(config, world.object.center)
    for i, eye in enumerate(cameras.centers):
        if not world.is_free(eye):
            raise InputError(
                f"synthetic scene (seed {config.seed}): camera {i} at {np.round(eye, 3).tolist()} lies outside "
                "the room or inside a solid; lower jitter or radius, or enlarge room_half_width"
            )
    renders = [
        world.render(cameras.K[i], cameras.c2w[i], config.width, config.height, config.rays_per_pixel_side)
        for i in tqdm(range(len(cameras)), desc="synthetic views", unit="view", leave=False, disable=None)
    ]
    return SyntheticScene(
        config=config,
        world=world,
        cameras=cameras,
        images=np.stack([r.rgb for r in renders]),
        gt_images=np.stack([r.gt_rgb for r in renders]),
        depth=np.stack([r.depth for r in renders]),
        gt_depth=np.stack([r.gt_depth for r in renders]),
        masks=np.stack([r.mask for r in renders]),
    )


def object_surface_points(scene: SyntheticScene, n: int, seed: int = 0) -> np.ndarray:
    """(n, 3) points uniformly on the object's surface (world coordinates), visible or not."""
    rng = np.random.default_rng(seed)
    obj = scene.object
    if obj.kind == "sphere":
        directions = rng.normal(size=(n, 3))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        return obj.center + obj.radius * directions
    half = obj.half_extents
    face_areas = np.array([half[1] * half[2], half[0] * half[2], half[0] * half[1]]).repeat(2)
    face = rng.choice(6, size=n, p=face_areas / face_areas.sum())
    local = rng.uniform(-half, half, size=(n, 3))
    axis = face // 2
    local[np.arange(n), axis] = np.where(face % 2 == 0, -1.0, 1.0) * half[axis]
    return obj.center + rotate(local, obj.shape.rotation)


def unproject(cameras: Cameras, view: int, pixels: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """World points seen at integer pixels (P, 2) as (x, y) with z-depths (P,) in one view."""
    K, c2w = cameras.K[view], cameras.c2w[view]
    u, v = pixels[:, 0] + 0.5, pixels[:, 1] + 0.5
    cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=1) * depth[:, None]
    return rotate(cam, c2w[:3, :3]) + c2w[:3, 3]


def depth_samples(
    scene: SyntheticScene, n: int, with_object: bool = True, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n surface points read off the exact depth maps, spread evenly over views.

    Returns world xyz (n, 3), the pixel colour there (n, 3) uint8 and the source view (n,).
    """
    rng = np.random.default_rng(seed)
    n_views, height, width = scene.depth.shape
    depth = scene.depth if with_object else scene.gt_depth
    images = scene.images if with_object else scene.gt_images
    views = np.sort(rng.integers(0, n_views, n))
    xs, ys = rng.integers(0, width, n), rng.integers(0, height, n)
    xyz = np.empty((n, 3))
    for view in np.unique(views):
        sel = views == view
        pixels = np.stack([xs[sel], ys[sel]], axis=1)
        xyz[sel] = unproject(scene.cameras, int(view), pixels, depth[view, ys[sel], xs[sel]])
    return xyz, images[views, ys, xs], views


def background_points(scene: SyntheticScene, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) exact points of the object-free scene that the cameras see, with their colours."""
    xyz, rgb, _ = depth_samples(scene, n, with_object=False, seed=seed)
    return xyz, rgb

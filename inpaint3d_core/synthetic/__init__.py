"""Procedural synthetic scenes with exact ground truth: the demo data and the unit of quality
measurement.

A seeded, textured room with furniture and one removable object (sphere or box), seen by
cameras on an arc or (trajectory='forward') from a handheld-like forward-facing patch. Every
view comes with and without the object, with exact z-depth and the object mask, so removal
quality, reprojection and mask propagation can be scored exactly.

    scene = generate_scene(SyntheticConfig.preset("tiny", seed=3))
    write_capture(scene, "capture/")           # a folder every import path reads
    write_store(scene, SceneStore("s.zarr"))   # ingest/poses/masks groups, skipping COLMAP
    ExactRenderer(scene, normalization)        # exact `render_view` in normalised coordinates
"""

from inpaint3d_core.synthetic.capture import write_capture
from inpaint3d_core.synthetic.config import SyntheticConfig
from inpaint3d_core.synthetic.oracle import ExactRenderer
from inpaint3d_core.synthetic.scene import (
    SyntheticScene,
    arc_cameras,
    background_points,
    depth_samples,
    forward_cameras,
    generate_scene,
    object_surface_points,
    scene_cameras,
    unproject,
)
from inpaint3d_core.synthetic.store import SyntheticStoreConfig, visible_tracks, write_store
from inpaint3d_core.synthetic.world import SyntheticObject, SyntheticWorld, ViewRender

__all__ = [
    "ExactRenderer",
    "SyntheticConfig",
    "SyntheticObject",
    "SyntheticScene",
    "SyntheticStoreConfig",
    "SyntheticWorld",
    "ViewRender",
    "arc_cameras",
    "background_points",
    "depth_samples",
    "forward_cameras",
    "generate_scene",
    "object_surface_points",
    "scene_cameras",
    "unproject",
    "visible_tracks",
    "write_capture",
    "write_store",
]

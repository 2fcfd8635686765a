"""Synthetic scenes: exact geometry, view-independent texture, exact removal ground truth, and
the capture folder / scene store they are written to."""

from __future__ import annotations

import json

import cv2
import imageio.v3 as iio
import numpy as np
import pydantic
import pytest

from inpaint3d_core.io.transforms_json import read_transforms
from inpaint3d_core.scene import load_masks, load_posed_views, load_sparse_points
from inpaint3d_core.synthetic import (
    ExactRenderer,
    SyntheticConfig,
    background_points,
    generate_scene,
    object_surface_points,
    unproject,
    write_capture,
    write_store,
)


@pytest.fixture(scope="module")
def box_scene():
    return generate_scene(SyntheticConfig.preset("tiny", object_type="box", seed=5))


def _assert_object_points_in_masks(scene):
    dilated = [cv2.dilate(m, np.ones((3, 3), np.uint8)) for m in scene.masks]
    points = object_surface_points(scene, 2000, seed=1)
    for view in range(len(scene)):
        uv, z = scene.cameras.project(points, view)
        px, py = np.floor(uv).astype(int).T
        inside = (z > 0) & (px >= 0) & (px < scene.config.width) & (py >= 0) & (py < scene.config.height)
        assert inside.mean() > 0.9, f"object should be in view {view}"
        hits = scene.masks[view][py[inside], px[inside]]
        assert hits.mean() > 0.95, f"view {view}: only {hits.mean():.3f} of object points inside the mask"
        assert dilated[view][py[inside], px[inside]].all()  # misses are boundary pixels only


def test_sphere_points_project_inside_masks(synthetic_scene):
    assert synthetic_scene.object.kind == "sphere"
    _assert_object_points_in_masks(synthetic_scene)


def test_box_points_lie_on_box_and_project_inside_masks(box_scene):
    obj = box_scene.object
    local = (object_surface_points(box_scene, 500) - obj.center) @ obj.shape.rotation
    on_face = np.isclose(np.abs(local), obj.half_extents, atol=1e-9)
    assert on_face.any(axis=1).all() and (np.abs(local) <= obj.half_extents + 1e-9).all()
    _assert_object_points_in_masks(box_scene)


@pytest.mark.parametrize("scene_name", ["synthetic_scene", "box_scene"])
def test_removal_changes_only_masked_pixels(scene_name, request):
    scene = request.getfixturevalue(scene_name)
    outside = scene.masks == 0
    assert 0.01 < scene.masks.mean() < 0.5
    np.testing.assert_array_equal(scene.images[outside], scene.gt_images[outside])
    np.testing.assert_array_equal(scene.depth[outside], scene.gt_depth[outside])
    # Wherever the pixel-centre ray sees the object first, the pixel is masked and the object is nearer.
    assert scene.masks[scene.depth < scene.gt_depth].all()
    assert (scene.depth <= scene.gt_depth).all()
    assert np.isfinite(scene.gt_depth).all() and (scene.depth > 0).all()
    assert (scene.images[scene.masks == 1] != scene.gt_images[scene.masks == 1]).any()


def test_background_reprojects_to_same_colour():
    """A pixel lifted with the exact depth and pose lands on the same texture in the next view."""
    scene = generate_scene(SyntheticConfig(width=160, height=120, n_views=2, arc_degrees=20, seed=2))
    h, w = scene.config.height, scene.config.width
    ys, xs = np.mgrid[0:h, 0:w]
    pixels = np.stack([xs.ravel(), ys.ravel()], axis=1)
    xyz = unproject(scene.cameras, 0, pixels, scene.gt_depth[0].ravel())
    uv, z = scene.cameras.project(xyz, 1)
    map_x, map_y = (uv[:, 0] - 0.5).astype(np.float32), (uv[:, 1] - 0.5).astype(np.float32)
    target_depth = cv2.remap(scene.gt_depth[1], map_x[None], map_y[None], cv2.INTER_NEAREST)[0]
    inside = (map_x > 1) & (map_x < w - 2) & (map_y > 1) & (map_y < h - 2)
    visible = inside & (np.abs(target_depth - z) < 0.01 * z)
    assert visible.mean() > 0.5
    warped = cv2.remap(scene.gt_images[1], map_x[None], map_y[None], cv2.INTER_LINEAR)[0].astype(float)
    error = np.abs(warped - scene.gt_images[0].reshape(-1, 3))[visible].max(axis=1)
    assert np.median(error) < 4, np.median(error)
    assert np.percentile(error, 90) < 15, np.percentile(error, 90)
    # A wrong pose must do clearly worse: the test measures consistency, not smoothness.
    shifted = cv2.remap(scene.gt_images[1], map_x[None] + 3, map_y[None], cv2.INTER_LINEAR)[0].astype(float)
    shifted_error = np.abs(shifted - scene.gt_images[0].reshape(-1, 3))[visible].max(axis=1)
    assert np.median(shifted_error) > 2 * np.median(error)


def test_background_points_lie_on_visible_surfaces(synthetic_scene):
    xyz, rgb = background_points(synthetic_scene, 300)
    assert xyz.shape == (300, 3) and rgb.dtype == np.uint8
    room = synthetic_scene.world.room
    assert (xyz >= room.low - 1e-6).all() and (xyz <= room.high + 1e-6).all()
    assert (np.linalg.norm(xyz - synthetic_scene.object.center, axis=1) > synthetic_scene.object.radius).all()


def test_deterministic_from_seed(synthetic_scene):
    again = generate_scene(SyntheticConfig.preset("tiny"))
    for key in ("images", "gt_images", "depth", "gt_depth", "masks"):
        np.testing.assert_array_equal(getattr(again, key), getattr(synthetic_scene, key))
    np.testing.assert_array_equal(again.cameras.c2w, synthetic_scene.cameras.c2w)
    other = generate_scene(SyntheticConfig.preset("tiny", seed=1))
    assert not np.array_equal(other.gt_images, synthetic_scene.gt_images)


def test_textures_do_not_depend_on_view_count():
    few = generate_scene(SyntheticConfig(width=32, height=24, n_views=3, arc_degrees=60))
    many = generate_scene(SyntheticConfig(width=32, height=24, n_views=5, arc_degrees=60))
    # The cameras differ; the world (materials, furniture) must not.
    np.testing.assert_array_equal(few.world.shader.materials.base, many.world.shader.materials.base)
    np.testing.assert_array_equal(few.world.furniture[0].center, many.world.furniture[0].center)


@pytest.mark.parametrize(("width", "height", "rays_per_side"), [(32, 24, 2), (1024, 768, 1)])
def test_generates_small_and_large(width, height, rays_per_side):
    scene = generate_scene(SyntheticConfig(width=width, height=height, n_views=1))
    assert scene.config.rays_per_pixel_side == rays_per_side
    assert scene.images.shape == (1, height, width, 3) and scene.images.dtype == np.uint8
    assert scene.depth.shape == (1, height, width) and scene.depth.dtype == np.float32
    assert scene.masks.dtype == np.uint8 and set(np.unique(scene.masks)) == {0, 1}
    assert scene.images.std() > 10  # textured, not flat


def test_presets_and_validation():
    assert SyntheticConfig.preset("tiny").width == 48
    assert SyntheticConfig.preset("full", seed=4).n_views == 40
    with pytest.raises(ValueError, match="unknown synthetic preset"):
        SyntheticConfig.preset("huge")
    with pytest.raises(pydantic.ValidationError, match="room_half_width"):
        SyntheticConfig(radius=3.0)
    with pytest.raises(pydantic.ValidationError):
        SyntheticConfig(object_type="cone")
    assert SyntheticConfig(width=100, focal_px=80.0).focal == 80.0


def test_orbit_faces_object():
    scene = generate_scene(SyntheticConfig(width=32, height=24, n_views=6, arc_degrees=360, jitter=0.0))
    azimuth = np.degrees(np.arctan2(scene.cameras.centers[:, 1], scene.cameras.centers[:, 0]))
    np.testing.assert_allclose(np.diff(np.sort(azimuth)), 60.0, atol=1e-6)
    forward = scene.cameras.c2w[:, :3, 2]
    to_object = scene.object.center - scene.cameras.centers
    np.testing.assert_allclose(forward, to_object / np.linalg.norm(to_object, axis=1, keepdims=True), atol=1e-9)


def test_write_capture_round_trips(synthetic_scene, tmp_path):
    folder = write_capture(synthetic_scene, tmp_path / "capture")
    frames = read_transforms(folder / "transforms.json")
    assert [f.file_path for f in frames] == [f"images/{n}.png" for n in synthetic_scene.names]
    for i, frame in enumerate(frames):
        np.testing.assert_allclose(frame.K, synthetic_scene.cameras.K[i])
        np.testing.assert_allclose(frame.c2w, synthetic_scene.cameras.c2w[i], atol=1e-12)
        assert (frame.width, frame.height) == (48, 36)
        np.testing.assert_array_equal(iio.imread(folder / frame.file_path), synthetic_scene.images[i])
    name = synthetic_scene.names[3]
    np.testing.assert_array_equal(iio.imread(folder / "masks" / f"{name}.png"), synthetic_scene.masks[3] * 255)
    np.testing.assert_array_equal(iio.imread(folder / "gt_images" / f"{name}.png"), synthetic_scene.gt_images[3])
    meta = json.loads((folder / "scene.json").read_text())
    assert meta["seed"] == 0 and meta["object"]["type"] == "sphere"
    assert SyntheticConfig(**meta["config"]) == synthetic_scene.config

    no_poses = write_capture(synthetic_scene, tmp_path / "unposed", with_poses=False)
    assert not (no_poses / "transforms.json").exists()
    assert len(list((no_poses / "images").glob("*.png"))) == len(synthetic_scene)


def test_write_store_reads_back(synthetic_scene, synthetic_store):
    scene, store = synthetic_scene, synthetic_store
    assert store.stages() == ["ingest", "masks", "poses"]
    views = load_posed_views(store)
    norm = views.normalization
    np.testing.assert_allclose(views.cameras.c2w, norm.apply_c2w(scene.cameras.c2w))
    np.testing.assert_allclose(views.cameras.K, scene.cameras.K)
    assert views.registered.all() and list(views.indices()) == list(range(len(scene)))
    assert [v.name for v in views.views] == scene.names
    for i in (0, 5):
        np.testing.assert_array_equal(views.image(i), scene.images[i])
        np.testing.assert_array_equal(views.gt_image(i), scene.gt_images[i])
        np.testing.assert_array_equal(views.gt_mask(i), scene.masks[i])
    # Normalisation puts cameras (and the robust bulk of the points) inside the unit box.
    assert np.abs(views.cameras.centers).max() <= 1.0 + 1e-9
    depth_n = scene.depth * norm.scale
    assert (views.near_far[:, 0] <= depth_n.min(axis=(1, 2))).all()
    assert (views.near_far[:, 1] >= scene.gt_depth.max(axis=(1, 2)) * norm.scale).all()

    raw, dilated = load_masks(store, dilated=False), load_masks(store)
    np.testing.assert_array_equal(np.stack(raw), scene.masks)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))  # the default 2 px dilation
    for r, d in zip(raw, dilated, strict=True):
        assert d.dtype == np.uint8 and d.sum() > r.sum()
        np.testing.assert_array_equal(d, cv2.dilate(r, disk))

    points = load_sparse_points(store)
    assert len(points.xyz) > 500 and points.xyz.dtype == np.float32 and points.rgb.dtype == np.uint8
    assert points.track_offsets[-1] == len(points.track_views)
    on_object = 0
    for p in range(0, len(points.xyz), 50):
        tracks = points.views_of(p)
        assert len(tracks) >= 2
        for view in tracks:
            uv, z = views.cameras.project(points.xyz[p : p + 1].astype(np.float64), int(view))
            x, y = np.floor(uv[0]).astype(int)
            assert abs(depth_n[view, y, x] - z[0]) <= 0.011 * z[0]
            on_object += int(scene.masks[view, y, x])
    assert on_object > 0  # SfM-like points include the object, which mask propagation relies on


def test_write_store_is_cached_and_records_are_real(synthetic_scene, synthetic_store):
    results = write_store(synthetic_scene, synthetic_store)
    assert [r.skipped for r in results] == [True, True, True]
    poses = synthetic_store.record("poses")
    assert poses.inputs == {"ingest": synthetic_store.record("ingest").fingerprint}
    assert poses.summary["points"] > 500
    changed = write_store(synthetic_scene, synthetic_store, dilate_px=1)
    assert not changed[2].skipped


def test_exact_renderer_reproduces_stored_views(synthetic_scene, synthetic_store):
    views = load_posed_views(synthetic_store)
    renderer = ExactRenderer(synthetic_scene, views.normalization)
    out = renderer.render_view(views.cameras.K[2], views.cameras.c2w[2], 48, 36)
    assert out["rgb"].dtype == np.float32 and out["rgb"].shape == (36, 48, 3)
    np.testing.assert_allclose(out["rgb"] * 255.0, synthetic_scene.gt_images[2], atol=1e-3)
    np.testing.assert_allclose(out["depth"], synthetic_scene.gt_depth[2] * views.normalization.scale, rtol=1e-5)
    assert (out["acc"] == 1).all()
    captured = ExactRenderer(synthetic_scene, views.normalization, with_object=True)
    np.testing.assert_allclose(
        captured.render_view(views.cameras.K[2], views.cameras.c2w[2], 48, 36)["rgb"] * 255.0,
        synthetic_scene.images[2],
        atol=1e-3,
    )

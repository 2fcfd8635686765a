"""Poses stage: COLMAP on a synthetic scene, pose-file imports, round trips through export, errors.

One 240x180, 14-view synthetic scene (module fixture) serves every test here.
"""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.alignment import blockwise_pose_errors, pose_errors
from inpaint3d_core.cameras import scale_intrinsics
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.colmap_model import CameraSet, SparseCloud, write_model
from inpaint3d_core.io.export import export_colmap, export_transforms
from inpaint3d_core.io.images import write_image
from inpaint3d_core.io.llff import LLFFPoses, write_poses_bounds
from inpaint3d_core.io.pose_import import import_colmap, import_transforms
from inpaint3d_core.scene import load_posed_views, load_sparse_points
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_capture
from inpaint3d_core.undistort import undistorted_intrinsics
from stages import ingest, poses


@pytest.fixture(scope="module")
def scene():
    return generate_scene(SyntheticConfig(width=240, height=180, n_views=14, supersample=1, seed=0))


def _store(path, capture, **ingest_options) -> SceneStore:
    store = SceneStore(path)
    ingest.run(store, ingest.Config(capture=str(capture), **ingest_options))
    return store


def _capture_c2w(store: SceneStore) -> np.ndarray:
    views = load_posed_views(store)
    return views.normalization.invert_c2w(views.cameras.c2w)


@pytest.fixture(scope="module")
def imported(scene, tmp_path_factory):
    """A store whose poses were imported from the scene's transforms.json."""
    root = tmp_path_factory.mktemp("imported")
    store = _store(root / "s.zarr", write_capture(scene, root / "cap"))
    poses.run(store, poses.Config())
    return store


@pytest.mark.parametrize("known_focal", [False, True])
def test_colmap_registers_every_synthetic_view_accurately(tmp_path, scene, known_focal):
    capture = write_capture(scene, tmp_path / "cap", with_poses=False)
    if not known_focal:  # views nothing matches: reported by name, the rest carries on
        rng = np.random.default_rng(0)
        for i in range(2):
            write_image(capture / "images" / f"zz_noise_{i}.png", rng.integers(0, 255, (180, 240, 3), np.uint8))
    store = _store(tmp_path / "s.zarr", capture)
    focal = scene.config.focal if known_focal else None
    result = poses.run(store, poses.Config(focal_px=focal))
    assert result.summary["registered"] == len(scene) and result.summary["method"] == "colmap-incremental"
    assert result.summary["unregistered"] == ([] if known_focal else ["zz_noise_0", "zz_noise_1"])
    views = load_posed_views(store)
    errors = pose_errors(views.cameras.c2w[: len(scene)], scene.cameras.c2w)
    assert errors.rotation_deg.max() < 0.5
    assert errors.relative_center_error.max() < 0.01
    assert abs(views.cameras.K[0, 0, 0] / scene.config.focal - 1) < 0.03
    assert np.abs(views.cameras.centers).max() <= 1.0 + 1e-6  # normalised into the unit radius
    assert len(load_sparse_points(store).xyz) > 200


def test_too_few_registered_views_fail_naming_them_with_advice():
    views = [{"name": f"v{i}"} for i in range(6)]
    registered = np.array([True, True, True, True, False, False])
    poses._check_registered(registered, views, poses.Config(min_registered_fraction=0.5), "estimate")
    with pytest.raises(InputError, match=r"only 4 of 6 views got poses \(need 5\); without poses: v4, v5; try"):
        poses._check_registered(registered, views, poses.Config(min_registered_fraction=0.8), "estimate")


def test_transforms_import_is_exact_with_points_and_bounds(imported, scene):
    assert imported.record("poses").summary["method"] == "import-transforms"
    assert not imported.record("poses").summary["undistorted"]
    views = load_posed_views(imported)
    assert np.allclose(_capture_c2w(imported), scene.cameras.c2w, atol=1e-9)
    assert np.allclose(views.cameras.K, scene.cameras.K)
    points = load_sparse_points(imported)
    assert len(points.xyz) > 200 and points.track_offsets[-1] == len(points.track_views)
    scale = views.normalization.scale
    for v in range(len(scene)):
        median_depth = np.median(scene.depth[v]) * scale
        assert views.near_far[v, 0] < median_depth < views.near_far[v, 1]


def test_colmap_import_undistorts_and_round_trips_through_export(tmp_path, scene):
    capture = write_capture(scene, tmp_path / "cap", with_poses=False)
    cams = scene.cameras
    distortion = np.zeros((len(scene), 8))
    distortion[:, 0] = 0.02
    points = SparseCloud.from_tracks(np.array([[0.0, 0.0, 0.5], [0.3, 0.2, 0.4]]), np.full((2, 3), 9), [[0, 1], [1, 2]])
    names = [f"{n}.png" for n in scene.names]
    model = CameraSet(names, cams.K, distortion, cams.c2w, cams.width, cams.height)
    write_model(capture / "sparse" / "0", model, points)
    first = _store(tmp_path / "a.zarr", capture)
    assert poses.run(first, poses.Config()).summary["undistorted"]
    assert "images" in set(first.read("poses").group_keys())
    K_new = undistorted_intrinsics(cams.K[0], distortion[0], 240, 180)
    assert np.allclose(load_posed_views(first).cameras.K[0], K_new)
    export_colmap(first, tmp_path / "exported")
    second = _store(tmp_path / "b.zarr", tmp_path / "exported")
    assert poses.run(second, poses.Config()).summary["method"] == "import-colmap"
    a, b = load_posed_views(first), load_posed_views(second)
    assert np.allclose(_capture_c2w(second), _capture_c2w(first), atol=1e-9)
    assert np.allclose(b.cameras.K, a.cameras.K, atol=1e-9)
    assert np.array_equal(b.image(3), a.image(3))
    pa, pb = load_sparse_points(first), load_sparse_points(second)
    xyz_a, xyz_b = a.normalization.invert_points(pa.xyz), b.normalization.invert_points(pb.xyz)
    assert np.allclose(xyz_a, xyz_b, atol=1e-5) and np.allclose(xyz_a, points.xyz, atol=1e-5)
    assert np.array_equal(pb.track_views, pa.track_views) and np.array_equal(pb.rgb, pa.rgb)


def test_transforms_export_round_trips(tmp_path, imported, scene):
    again = tmp_path / "again"
    for name, image in zip(scene.names, scene.images, strict=True):
        (again / "images").mkdir(parents=True, exist_ok=True)
        write_image(again / "images" / f"{name}.png", image)
    export_transforms(imported, again / "transforms.json")
    second = _store(tmp_path / "b.zarr", again)
    fast = poses.Config(sfm_max_side=120)  # points are not compared here: triangulate small
    assert poses.run(second, fast).summary["method"] == "import-transforms"
    assert np.allclose(_capture_c2w(second), _capture_c2w(imported), atol=1e-12)
    assert np.allclose(load_posed_views(second).cameras.K, load_posed_views(imported).cameras.K, atol=1e-12)


def test_llff_import_rescales_full_resolution_intrinsics(tmp_path, scene):
    folder = tmp_path / "llff" / "images_2"
    folder.mkdir(parents=True)
    for name, image in zip(scene.names, scene.images, strict=True):
        write_image(folder / f"{name}.png", image)
    cams = scene.cameras
    full = LLFFPoses(cams.c2w, scale_intrinsics(cams.K, 2, 2), cams.width * 2, cams.height * 2, np.ones((14, 2)))
    write_poses_bounds(tmp_path / "llff" / "poses_bounds.npy", full)
    store = _store(tmp_path / "s.zarr", tmp_path / "llff")
    assert poses.run(store, poses.Config(sfm_max_side=120)).summary["method"] == "import-llff"
    assert np.allclose(load_posed_views(store).cameras.K, cams.K)
    assert np.allclose(_capture_c2w(store), cams.c2w, atol=1e-9)


def test_requested_pose_file_must_exist(tmp_path, scene):
    store = _store(tmp_path / "s.zarr", write_capture(scene, tmp_path / "cap", with_poses=False))
    with pytest.raises(InputError, match="no such pose file"):
        poses.run(store, poses.Config(source="llff"))


# --- real captures (../shared/data): estimated from scratch, compared with the shipped poses ---
def _subset_capture(folder, names, every: int):
    """Every `every`-th photo of a real capture, linked (not copied) into `folder/images`."""
    (folder / "images").mkdir(parents=True)
    for source in sorted(names)[::every]:
        (folder / "images" / source.name).symlink_to(source)
    return folder


@pytest.mark.realdata
@pytest.mark.slow
def test_real_fox_registers_and_agrees_with_transforms_json(tmp_path, shared_data):
    fox = shared_data / "fox"
    capture = _subset_capture(tmp_path / "fox", (fox / "images").glob("*.jpg"), every=3)
    store = _store(tmp_path / "s.zarr", capture, max_side=400)
    result = poses.run(store, poses.Config(source="estimate"))
    assert result.summary["registered"] >= 0.9 * result.summary["views"]
    reference = import_transforms(fox / "transforms.json", store.read("ingest").attrs["views"])
    views = load_posed_views(store)
    both = views.registered & reference.registered
    assert np.median(pose_errors(views.cameras.c2w[both], reference.c2w[both]).rotation_deg) < 2.0


@pytest.mark.realdata
@pytest.mark.slow
def test_real_beer_can_registers_and_agrees_with_the_shipped_model(tmp_path, shared_data):
    """The shipped beer_can model is folded (consecutive video frames 174 degrees apart at 13/14,
    34/35 and 52/53), so it is compared block by block (`blockwise_pose_errors`)."""
    beer = shared_data / "beer_can"
    store = _store(tmp_path / "s.zarr", beer, max_side=480)  # every frame: fewer fold (see benchmark)
    result = poses.run(store, poses.Config(source="estimate"))
    assert result.summary["registered"] >= 0.9 * result.summary["views"]
    reference = import_colmap(beer / "sparse" / "0", store.read("ingest").attrs["views"])
    views = load_posed_views(store)
    both = views.registered & reference.registered
    rotation, _, blocks = blockwise_pose_errors(views.cameras.c2w[both], reference.c2w[both])
    assert len(blocks) >= 2 and np.median(rotation) < 2.0


@pytest.mark.realdata
@pytest.mark.slow
def test_real_beer_video_ingests_to_frames_that_register(tmp_path, shared_data):
    store = SceneStore(tmp_path / "s.zarr")
    config = ingest.Config(capture=str(shared_data / "beer_can" / "Beer.mp4"), video_frames=60, max_side=480)
    assert ingest.run(store, config).summary["views"] >= 50
    result = poses.run(store, poses.Config(matcher="sequential"))
    assert result.summary["registered"] >= 0.9 * result.summary["views"]

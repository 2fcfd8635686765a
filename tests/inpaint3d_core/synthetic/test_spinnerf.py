"""The SPIn-NeRF-shaped capture: its folder goes through ingest/poses/masks with the SPIn-NeRF
protocol unchanged, test views are the exact object-free renders, and the unseen masks agree
with what the training views' own depth maps and masks show."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.io.llff import read_poses_bounds
from inpaint3d_core.scene import load_masks, load_posed_views
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic import SyntheticConfig, scene_cameras
from inpaint3d_core.synthetic.spinnerf import (
    SPINNERF_SIZES,
    held_out_indices,
    measure_unseen,
    spinnerf_config,
    write_spinnerf_capture,
)
from inpaint3d_core.synthetic.visibility import pixel_background_points, seen_by_views
from inpaint3d_core.synthetic.world import SyntheticWorld
from stages import ingest, masks, poses

FACTOR = 4


@pytest.fixture(scope="module")
def cpu_capture(tmp_path_factory):
    """The CPU-size capture (160x90, 25 views: 10 test + 15 train), written once."""
    config = spinnerf_config("cpu", seed=0)
    return config, write_spinnerf_capture(config, tmp_path_factory.mktemp("spinnerf") / "capture", progress=False)


def _read(path):
    return np.asarray(iio.imread(path))


def test_test_views_interleave_with_training_views():
    index = held_out_indices(100, 40)
    assert len(np.unique(index)) == 40 and index.min() >= 0 and index.max() < 100
    train = np.setdiff1d(np.arange(100), index)
    # Every test view has a training view on each side along the path (none at the ends).
    assert all((train < i).any() and (train > i).any() for i in index)
    assert np.diff(index).max() <= 3
    with pytest.raises(ValueError, match="n_test"):
        held_out_indices(10, 10)


def test_sizes():
    assert SPINNERF_SIZES["full"] == {"width": 1008, "height": 567, "n_views": 100}
    full = spinnerf_config("full", seed=2)
    assert (full.width, full.height, full.n_views, full.seed) == (1008, 567, 100, 2)
    assert full.trajectory == "forward" and full.textures == "structured"
    assert spinnerf_config("cpu", object_size=0.15).object_size == 0.15
    with pytest.raises(ValueError, match="unknown SPIn-NeRF capture size"):
        spinnerf_config("huge")


def test_folder_layout_and_exact_ground_truth(cpu_capture):
    config, capture = cpu_capture
    image_dir = capture.folder / f"images_{FACTOR}"
    names = sorted(p.stem for p in image_dir.glob("*.png"))
    assert names == capture.names and len(names) == 25 and capture.n_test == 10
    world = SyntheticWorld(config)
    cameras = scene_cameras(config, world.object.center)
    for k in (0, 9, 10, 24):  # first and last test view, first and last training view
        view = capture.path_index[k]
        render = world.render(cameras.K[view], cameras.c2w[view], config.width, config.height, 2)
        image = _read(image_dir / f"{names[k]}.png")
        if k < capture.n_test:  # photographed without the object: the exact removal ground truth
            np.testing.assert_array_equal(image, render.gt_rgb)
            region = _read(image_dir / "test_label" / f"{names[k]}.png")
            unseen = _read(image_dir / "test_unseen" / f"{names[k]}.png")
            np.testing.assert_array_equal(region, render.mask)
            assert set(np.unique(unseen)) <= {0, 1} and not (unseen & (1 - region)).any()
            assert not (image_dir / "label" / f"{names[k]}.png").exists()
        else:
            np.testing.assert_array_equal(image, render.rgb)
            np.testing.assert_array_equal(_read(image_dir / "label" / f"{names[k]}.png"), render.mask)
            assert not (image_dir / "test_label" / f"{names[k]}.png").exists()
    meta = json.loads((capture.folder / "scene.json").read_text())
    assert SyntheticConfig(**meta["config"]) == config
    assert [v["role"] for v in meta["views"]] == ["test"] * 10 + ["train"] * 15
    assert meta["measured"]["unseen_fraction"] == capture.unseen_fraction
    with pytest.raises(InputError, match="already holds a capture"):
        write_spinnerf_capture(config, capture.folder, progress=False)


def test_poses_bounds_are_the_generator_cameras(cpu_capture):
    config, capture = cpu_capture
    world = SyntheticWorld(config)
    cameras = scene_cameras(config, world.object.center).subset(np.array(capture.path_index))
    poses_file = read_poses_bounds(capture.folder / "poses_bounds.npy")
    np.testing.assert_allclose(poses_file.c2w, cameras.c2w, atol=1e-12)
    assert (poses_file.width == FACTOR * config.width).all() and (poses_file.height == FACTOR * config.height).all()
    np.testing.assert_allclose(poses_file.K[:, 0, 0], FACTOR * config.focal)
    near, far = poses_file.bounds.T
    assert (near > 0).all() and (far > 2 * near).all()


def test_unseen_fraction_in_the_aimed_range(cpu_capture):
    config, capture = cpu_capture
    assert 0.3 < capture.unseen_fraction < 0.7
    # The geometry-only measurement gives the writer's numbers exactly (same masks, same rays).
    measured = measure_unseen(config)
    assert measured["unseen_fraction"] == capture.unseen_fraction
    assert measured["unseen_per_view"] == capture.unseen_per_view
    assert measured["train_mask_area"] == capture.train_mask_area
    assert 0.03 < capture.train_mask_area < 0.3 and 0.03 < capture.test_mask_area < 0.3
    # A wider sweep of the same scene shows more of the background: fewer unseen pixels.
    wide = write_spinnerf_capture(
        spinnerf_config("cpu", seed=0, width=80, height=45, n_views=10, baseline=0.4),
        capture.folder.parent / "wide",
        progress=False,
    )
    narrow = write_spinnerf_capture(
        spinnerf_config("cpu", seed=0, width=80, height=45, n_views=10, baseline=0.05),
        capture.folder.parent / "narrow",
        progress=False,
    )
    assert wide.unseen_fraction < capture.unseen_fraction - 0.1 < narrow.unseen_fraction - 0.1


def test_unseen_masks_agree_with_the_training_depth_maps(tmp_path):
    """Cross-check of the ray-cast visibility with the training views' rendered depth and masks:
    a seen point has a training pixel with its depth outside the mask; an unseen one has none."""
    config = spinnerf_config("cpu", seed=1, width=96, height=54, n_views=10)
    capture = write_spinnerf_capture(config, tmp_path / "capture", progress=False)
    world = SyntheticWorld(config)
    cameras = scene_cameras(config, world.object.center)
    train = [capture.path_index[k] for k in range(capture.n_test, len(capture.names))]
    renders = [world.render(cameras.K[v], cameras.c2w[v], config.width, config.height, 2) for v in train]
    train_cameras = cameras.subset(np.array(train))
    agree, total = 0, 0
    for k in range(capture.n_test):
        view = capture.path_index[k]
        region = _read(capture.image_dir / "test_label" / f"{capture.names[k]}.png")
        unseen = _read(capture.image_dir / "test_unseen" / f"{capture.names[k]}.png")
        ys, xs = np.nonzero(region)
        points = pixel_background_points(world, cameras.K[view], cameras.c2w[view], np.stack([xs, ys], 1) * 1.0)
        seen_in_maps = np.zeros(len(points), bool)
        for t, render in enumerate(renders):
            uv, z = train_cameras.project(points, t)
            px, py = np.floor(uv).astype(int).T
            ok = (z > 0) & (px >= 0) & (px < config.width) & (py >= 0) & (py < config.height)
            px, py = np.where(ok, px, 0), np.where(ok, py, 0)
            depth = np.full(len(points), np.nan)
            depth[ok] = render.depth[py[ok], px[ok]]
            mask = np.ones(len(points), np.uint8)
            mask[ok] = render.mask[py[ok], px[ok]]
            seen_in_maps |= ok & (mask == 0) & (np.abs(depth - z) < 0.01 * z)
        agree += int(np.sum(seen_in_maps == (unseen[ys, xs] == 0)))
        total += len(points)
    assert 0.3 < capture.unseen_fraction < 0.8 and total > 500
    assert agree / total > 0.95, agree / total  # pixel-centre depth lookups differ only at silhouette borders


def test_workers_write_the_same_capture(tmp_path):
    config = spinnerf_config("cpu", seed=3, width=48, height=27, n_views=5)
    one = write_spinnerf_capture(config, tmp_path / "one", progress=False)
    two = write_spinnerf_capture(config, tmp_path / "two", progress=False, workers=2)
    assert one.unseen_per_view == two.unseen_per_view and one.unseen_fraction == two.unseen_fraction
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.png"))
    assert len(files) == 5 + 5 + 2  # images, label/test_label, test_unseen
    for path in files:
        np.testing.assert_array_equal(_read(tmp_path / "one" / path), _read(tmp_path / "two" / path))
    np.testing.assert_array_equal(
        np.load(tmp_path / "one" / "poses_bounds.npy"), np.load(tmp_path / "two" / "poses_bounds.npy")
    )


def test_seen_by_views_point_cases():
    config = spinnerf_config("cpu", width=80, height=45, n_views=3)
    world = SyntheticWorld(config)
    cameras = scene_cameras(config, world.object.center)
    render = world.render(cameras.K[0], cameras.c2w[0], 80, 45, 1)
    one = cameras.subset(np.array([0]))
    ys, xs = np.nonzero(render.mask)
    hidden = pixel_background_points(world, cameras.K[0], cameras.c2w[0], np.stack([xs, ys], 1) * 1.0)
    assert not seen_by_views(world, hidden, one, render.mask[None]).any()  # behind the object
    ys, xs = np.nonzero(render.mask == 0)
    open_points = pixel_background_points(world, cameras.K[0], cameras.c2w[0], np.stack([xs, ys], 1) * 1.0)
    assert seen_by_views(world, open_points, one, render.mask[None]).all()
    # The same open points with the whole image masked: a masked pixel does not count as seen.
    assert not seen_by_views(world, open_points, one, np.ones_like(render.mask)[None]).any()


def test_capture_goes_through_ingest_poses_masks_with_the_spinnerf_protocol(cpu_capture, tmp_path):
    config, capture = cpu_capture
    store = SceneStore(tmp_path / "scene.zarr")
    ingest.run(store, ingest.Config(capture=str(capture.folder), protocol="spinnerf", n_gt=capture.n_test))
    poses.run(store, poses.Config())
    masks.run(store, masks.Config())  # auto: imports images_4/label/
    views = load_posed_views(store)
    assert [v.name for v in views.views] == capture.names
    assert [v.role for v in views.views] == ["test"] * capture.n_test + ["train"] * (25 - capture.n_test)
    assert views.registered.all() and store.read("poses").attrs["method"] == "import-llff"
    # Poses: the generator's cameras up to the stored normalisation; K back at the stored size.
    world = SyntheticWorld(config)
    cameras = scene_cameras(config, world.object.center).subset(np.array(capture.path_index))
    np.testing.assert_allclose(views.normalization.invert_c2w(views.cameras.c2w), cameras.c2w, atol=1e-9)
    np.testing.assert_allclose(views.cameras.K, cameras.K, atol=1e-9)
    raw = load_masks(store, dilated=False)
    assert store.read("masks").attrs["method"] == "import"
    for k, mask in enumerate(raw):
        assert mask.shape == (config.height, config.width)
        name = capture.names[k]
        if k < capture.n_test:  # test views train nothing: no object mask; their region is ground truth
            assert not mask.any()
            np.testing.assert_array_equal(views.gt_mask(k), _read(capture.image_dir / "test_label" / f"{name}.png"))
            np.testing.assert_array_equal(views.gt_image(k), views.image(k))
        else:
            np.testing.assert_array_equal(mask, _read(capture.image_dir / "label" / f"{name}.png"))
            assert mask.any()

"""SPIn-NeRF protocol on a tiny synthetic folder in its layout: ingest marks the first n_gt views
as object-free test views, masks come from `label/`, and evaluate scores only the test views
inside their `test_label` regions (the exact scene stands in for the trained field)."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from inpaint3d_core.cameras import scale_intrinsics
from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.io.llff import LLFFPoses, write_poses_bounds
from inpaint3d_core.scene import load_posed_views, read_metrics
from inpaint3d_core.stage import StageSpec, run_stage
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic import ExactRenderer, SyntheticConfig, generate_scene
from stages import evaluate, ingest, masks, poses, render

N_GT = 3


def write_spinnerf_folder(scene, root: Path, n_gt: int, factor: int = 4) -> Path:
    """LLFF `images_<factor>/` + `poses_bounds.npy` (hwf at full resolution); the first `n_gt`
    views (sorted names) photographed without the object, their object regions in `test_label/`;
    the other views with the object and its masks in `label/`."""
    image_dir = root / f"images_{factor}"
    for sub in ("label", "test_label"):
        (image_dir / sub).mkdir(parents=True)
    for i in range(len(scene)):
        name, held_out = f"img_{i:03d}.png", i < n_gt
        iio.imwrite(image_dir / name, scene.gt_images[i] if held_out else scene.images[i])
        iio.imwrite(image_dir / ("test_label" if held_out else "label") / name, scene.masks[i] * 255)
    cams, n = scene.cameras, len(scene)
    bounds = np.stack([0.9 * scene.depth.reshape(n, -1).min(1), 1.1 * scene.gt_depth.reshape(n, -1).max(1)], 1)
    poses_file = LLFFPoses(
        c2w=cams.c2w,
        K=scale_intrinsics(cams.K, factor, factor),
        width=cams.width * factor,
        height=cams.height * factor,
        bounds=bounds,
    )
    write_poses_bounds(root / "poses_bounds.npy", poses_file)
    return root


@pytest.fixture(scope="module")
def spinnerf_scene():
    return generate_scene(SyntheticConfig.preset("tiny", n_views=10))


@pytest.fixture
def spinnerf_store(spinnerf_scene, tmp_path):
    capture = write_spinnerf_folder(spinnerf_scene, tmp_path / "capture", N_GT)
    store = SceneStore(tmp_path / "scene.zarr")
    ingest.run(store, ingest.Config(capture=str(capture), protocol="spinnerf", n_gt=N_GT))
    poses.run(store, poses.Config())
    masks.run(store, masks.Config())  # auto: the capture's images_N/label/
    run_stage(store, StageSpec("inpaint", 1, upstream=("ingest", "poses", "masks")), StageConfig(), lambda ctx: {})
    return store


def _render_and_score(store, scene, monkeypatch, with_object):
    field = ExactRenderer(scene, load_posed_views(store).normalization, with_object=with_object)
    monkeypatch.setattr(render, "load_field", lambda store, device, which="final": field)
    render.run(store, render.Config(n_frames=2, compare="captured", keep_frames=False), force=True)
    evaluate.run(store, evaluate.Config(), force=True)
    return read_metrics(store)


def test_only_held_out_views_are_scored_inside_their_test_labels(spinnerf_store, spinnerf_scene, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    views = load_posed_views(spinnerf_store)
    assert [v.role for v in views.views] == ["test"] * N_GT + ["train"] * (len(spinnerf_scene) - N_GT)
    np.testing.assert_allclose(views.cameras.K[0], spinnerf_scene.cameras.K[0])  # hwf rescaled to images_4

    removed = _render_and_score(spinnerf_store, spinnerf_scene, monkeypatch, with_object=False)
    assert removed["scored_views"] == "test"
    assert [(v["name"], v["role"]) for v in removed["per_view"]] == [(f"img_{i:03d}", "test") for i in range(N_GT)]
    assert removed["mean"]["bbox"]["psnr"] > 35  # the oracle removal matches the photos without the object
    # Consistency is measured where the inpaint stage generated content: the training views' label masks.
    checked = {v["view"] for v in removed["consistency"]["per_view"]}
    assert checked == set(range(N_GT, len(spinnerf_scene)))

    kept = _render_and_score(spinnerf_store, spinnerf_scene, monkeypatch, with_object=True)
    assert kept["mean"]["bbox"]["psnr"] < removed["mean"]["bbox"]["psnr"] - 5  # the object is in the test_label box
    assert kept["mean"]["full"]["psnr"] < removed["mean"]["full"]["psnr"]

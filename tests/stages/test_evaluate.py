"""Evaluate stage: scores against ground truth, consistency, LPIPS honesty, the report."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from inpaint3d_core.scene import load_posed_views
from inpaint3d_core.stage import StageConfig, StageSpec, run_stage
from stages import evaluate, render


class ExactSceneField:
    """The synthetic world as a stand-in for a trained field; `with_object` = nothing removed;
    `noise` = per-call random colour error (an imperfect field)."""

    def __init__(self, scene, normalization, with_object=False, noise=0.0):
        self.scene, self.norm, self.with_object, self.noise = scene, normalization, with_object, noise
        self.rng = np.random.default_rng(0)

    def render_view(self, K, c2w, width, height, chunk=8192):
        view = self.scene.world.render(
            K, self.norm.invert_c2w(c2w), width, height, supersample=self.scene.config.supersample
        )
        rgb = (view.rgb if self.with_object else view.gt_rgb) / 255.0
        rgb = np.clip(rgb + self.rng.normal(0, self.noise, rgb.shape), 0, 1)
        depth = view.depth if self.with_object else view.gt_depth
        return {"rgb": rgb, "depth": depth * self.norm.scale, "acc": np.ones(depth.shape, np.float32)}


@pytest.fixture
def offline_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))


def _render_with(store, scene, monkeypatch, **field_kwargs):
    run_stage(
        store,
        StageSpec("inpaint", 1, upstream=("ingest", "poses", "masks")),
        StageConfig(),
        lambda ctx: {},
        force=True,
    )
    field = ExactSceneField(scene, load_posed_views(store).normalization, **field_kwargs)
    monkeypatch.setattr(render, "load_field", lambda store, device, which="final": field)
    render.run(store, render.Config(n_frames=3, compare="captured", keep_frames=False), force=True)


def test_removed_object_scores_better_than_kept_object(
    synthetic_store, synthetic_scene, monkeypatch, offline_torch_home
):
    _render_with(synthetic_store, synthetic_scene, monkeypatch, noise=0.02)
    good = evaluate.run(synthetic_store, evaluate.Config(stills=2)).summary
    _render_with(synthetic_store, synthetic_scene, monkeypatch, with_object=True, noise=0.02)
    bad = evaluate.run(synthetic_store, evaluate.Config(stills=2), force=True).summary  # same fingerprints
    assert good["scored"] == bad["scored"] == len(synthetic_scene)
    assert good["bbox_psnr"] > bad["bbox_psnr"] + 5
    assert good["full_psnr"] > bad["full_psnr"]
    assert 30 < good["full_psnr"] < 40  # 0.02 noise -> about 34 dB
    metrics = evaluate.read_metrics(synthetic_store)
    assert metrics["scored_views"] == "all" and "unavailable" in metrics["lpips"]
    assert "lpips" not in metrics["mean"]["full"]  # never an invented number
    assert set(metrics["mean"]) == {"full", "bbox", "masked"}
    assert metrics["consistency"]["photometric_l1"] is not None


def test_report_and_plots_are_stored(synthetic_store, synthetic_scene, monkeypatch, offline_torch_home):
    _render_with(synthetic_store, synthetic_scene, monkeypatch, noise=0.01)
    evaluate.run(synthetic_store, evaluate.Config(stills=2))
    page = evaluate.read_report(synthetic_store).decode()
    assert page.count("data:video/mp4;base64,") == 3 and page.count("<h3>") == 2
    assert "LPIPS unavailable" in page
    assert {"psnr_per_view.png", "ssim_per_view.png"} <= set(evaluate.read_plots(synthetic_store))


def test_auto_scores_only_held_out_test_views(synthetic_store, synthetic_scene, monkeypatch, offline_torch_home):
    ingest = zarr.open_group(synthetic_store.url, path="ingest", mode="a", zarr_format=3)
    roles = [dict(v, role="test" if k < 3 else "train") for k, v in enumerate(ingest.attrs["views"])]
    ingest.attrs["views"] = roles  # as the SPIn-NeRF ingest marks its first n_gt views
    _render_with(synthetic_store, synthetic_scene, monkeypatch, noise=0.01)
    evaluate.run(synthetic_store, evaluate.Config())
    metrics = evaluate.read_metrics(synthetic_store)
    assert metrics["scored_views"] == "test"
    assert [v["view"] for v in metrics["per_view"]] == [0, 1, 2]
    evaluate.run(synthetic_store, evaluate.Config(scored_views="all"), force=True)
    assert len(evaluate.read_metrics(synthetic_store)["per_view"]) == len(synthetic_scene)

"""Evaluate stage: scores against ground truth, consistency, LPIPS honesty, the report."""

from __future__ import annotations

import pytest
import zarr

from inpaint3d_core.scene import PosedViews, read_metrics, read_plots, read_report
from stages import evaluate, render


@pytest.fixture
def offline_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))


def _render_with(store, stand_in_field, **final):
    stand_in_field(final=final)
    render.run(store, render.Config(n_frames=3, compare="captured", keep_frames=False), force=True)


def test_removed_object_scores_better_than_kept_object(
    synthetic_store, synthetic_scene, stand_in_field, offline_torch_home
):
    _render_with(synthetic_store, stand_in_field, noise=0.02)
    good = evaluate.run(synthetic_store, evaluate.Config(stills=2)).summary
    _render_with(synthetic_store, stand_in_field, with_object=True, noise=0.02)
    bad = evaluate.run(synthetic_store, evaluate.Config(stills=2), force=True).summary  # same fingerprints
    assert good["scored"] == bad["scored"] == len(synthetic_scene)
    assert good["bbox_psnr"] > bad["bbox_psnr"] + 5
    assert good["full_psnr"] > bad["full_psnr"]
    assert 30 < good["full_psnr"] < 40  # 0.02 noise -> about 34 dB
    metrics = read_metrics(synthetic_store)
    assert metrics["scored_views"] == "all" and "unavailable" in metrics["lpips"]
    assert "lpips" not in metrics["mean"]["full"]  # never an invented number
    assert set(metrics["mean"]) == {"full", "bbox", "masked"}
    assert metrics["consistency"]["photometric_l1"] is not None


def test_report_and_plots_are_stored(synthetic_store, synthetic_scene, stand_in_field, offline_torch_home):
    _render_with(synthetic_store, stand_in_field, noise=0.01)
    evaluate.run(synthetic_store, evaluate.Config(stills=2))
    page = read_report(synthetic_store).decode()
    assert page.count("data:video/mp4;base64,") == 3 and page.count("<div class='view'>") == 2
    for section in ("summary", "before-after", "generated", "metrics", "per-view", "losses", "videos"):
        assert f"<section id='{section}'>" in page, section
    assert "LPIPS unavailable" in page and "ground truth" in page and "views scored against ground truth" in page
    assert page.count("<tr><td>view_") == len(synthetic_scene)  # the per-view table: every rendered view
    assert {"psnr_per_view.png", "ssim_per_view.png"} <= set(read_plots(synthetic_store))


def test_a_capture_without_ground_truth_says_so_once(synthetic_store, stand_in_field, offline_torch_home, monkeypatch):
    # a capture with no ground-truth photos (deleting them from the store would make it damaged)
    monkeypatch.setattr(PosedViews, "gt_image", lambda self, index: None)
    _render_with(synthetic_store, stand_in_field, noise=0.01)
    evaluate.run(synthetic_store, evaluate.Config(stills=1))
    metrics = read_metrics(synthetic_store)
    assert metrics["per_view"] == [] and len(metrics["notes"]) == 1 and "no ground-truth photo" in metrics["notes"][0]
    page = read_report(synthetic_store).decode()
    assert "views scored" not in page and "LPIPS unavailable" not in page and "multi-view consistency L1" in page


def test_auto_scores_only_held_out_test_views(synthetic_store, synthetic_scene, stand_in_field, offline_torch_home):
    ingest = zarr.open_group(synthetic_store.url, path="ingest", mode="a", zarr_format=3)
    roles = [dict(v, role="test" if k < 3 else "train") for k, v in enumerate(ingest.attrs["views"])]
    ingest.attrs["views"] = roles  # as the SPIn-NeRF ingest marks its first n_gt views
    _render_with(synthetic_store, stand_in_field, noise=0.01)
    evaluate.run(synthetic_store, evaluate.Config())
    metrics = read_metrics(synthetic_store)
    assert metrics["scored_views"] == "test"
    assert [v["view"] for v in metrics["per_view"]] == [0, 1, 2]
    evaluate.run(synthetic_store, evaluate.Config(scored_views="all"), force=True)
    assert len(read_metrics(synthetic_store)["per_view"]) == len(synthetic_scene)

"""`inpaint3d render`, `inpaint3d evaluate` and the video/frames/ply/report exporters, end to end
on the tiny synthetic store (the exact scene stands in for the trained field)."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest
from cli_runner import call_cli

from inpaint3d_core.media import decode_mp4
from inpaint3d_core.pointcloud import read_ply


@pytest.fixture
def evaluated_store(synthetic_store, stand_in_field, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # no LPIPS weights: reported as unavailable
    stand_in_field(final={"noise": 0.01}, warmup={"with_object": True})
    url = synthetic_store.url
    code, out, err = call_cli(monkeypatch, capsys, "render", url, "--frames", "4", "--path", "orbit", "--width", "32")
    assert code == 0, err
    assert "4 path frames at 32x24" in out and "compare: captured" in out  # auto: the photos
    return synthetic_store


def test_evaluate_prints_the_table_and_writes_the_report(evaluated_store, monkeypatch, capsys, tmp_path):
    url = evaluated_store.url
    code, out, err = call_cli(monkeypatch, capsys, "evaluate", url, "--report-out", str(tmp_path / "report"))
    assert code == 0, err
    assert "bbox" in out and "psnr" in out and "photometric_l1" in out and "LPIPS unavailable" in out
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["mean"]["full"]["psnr"] == pytest.approx(40.0, abs=2.0)  # noise 0.01 -> 40 dB
    assert (tmp_path / "report" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "report" / "plots" / "psnr_per_view.png").exists()
    code, out, _ = call_cli(monkeypatch, capsys, "evaluate", url, "--json")
    assert code == 0 and json.loads(out)["scored_views"] == "all"


def test_exporters_write_files_that_read_back(evaluated_store, synthetic_scene, monkeypatch, capsys, tmp_path):
    url = evaluated_store.url
    assert call_cli(monkeypatch, capsys, "export", url, "--format", "video", "--out", str(tmp_path / "v"))[0] == 0
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["compare.mp4", "depth.mp4", "rgb.mp4"]
    assert len(decode_mp4((tmp_path / "v" / "depth.mp4").read_bytes())) == 4

    assert call_cli(monkeypatch, capsys, "export", url, "--format", "frames", "--out", str(tmp_path / "f"))[0] == 0
    frames = sorted((tmp_path / "f" / "rgb").glob("*.png"))
    assert len(frames) == 4 and iio.imread(frames[0]).shape == (24, 32, 3)

    ply = tmp_path / "cloud.ply"
    assert call_cli(monkeypatch, capsys, "export", url, "--format", "ply", "--out", str(ply))[0] == 0
    xyz, rgb = read_ply(ply)
    assert len(xyz) > 500 and rgb.dtype == np.uint8
    # In the capture's (world) coordinates: seen from view 0, points lie on its object-free surface.
    cams = synthetic_scene.cameras
    uv, z = cams.project(xyz.astype(np.float64), 0)
    px, py = np.floor(uv).astype(int).T
    inside = (z > 0) & (px >= 0) & (px < cams.width[0]) & (py >= 0) & (py < cams.height[0])
    surface = synthetic_scene.gt_depth[0][py[inside], px[inside]]
    on_surface = np.abs(surface - z[inside]) < 0.03 * z[inside]
    assert inside.sum() > 100 and on_surface.mean() > 0.6  # the rest are occluded from view 0

    code, _, err = call_cli(monkeypatch, capsys, "export", url, "--format", "report", "--out", str(tmp_path / "r"))
    assert code == 2 and "inpaint3d evaluate" in err  # not evaluated yet: says what to run


def test_bad_option_value_is_exit_2(synthetic_store, monkeypatch, capsys):
    code, _, err = call_cli(monkeypatch, capsys, "render", synthetic_store.url, "--path", "zigzag")
    assert code == 2 and "--path" in err


def test_report_needs_evaluated_stores_and_labels_them(monkeypatch, capsys, synthetic_store, tmp_path):
    from flows.commands.report_cmd import store_labels

    code, _, err = call_cli(monkeypatch, capsys, "report", synthetic_store.url, "--out", str(tmp_path / "r"))
    assert code == 2 and "inpaint3d evaluate" in err
    assert store_labels(["a/joint.zarr", "b/joint.zarr/", "c/other.zarr"]) == ["a-joint", "b-joint", "c-other"]
    assert store_labels(["x.zarr", "x.zarr"]) == ["x", "x-2"]

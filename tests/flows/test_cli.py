"""The CLI's exit-code contract and the store inspection/export commands."""

from __future__ import annotations

import json

import numpy as np
from cli_runner import call_cli

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.io.transforms_json import read_transforms
from inpaint3d_core.stage import StageSpec, run_stage
from inpaint3d_core.store import SceneStore


def test_inspect_missing_store_is_exit_2_naming_the_path(monkeypatch, capsys, tmp_path):
    code, _, err = call_cli(monkeypatch, capsys, "inspect", str(tmp_path / "nope.zarr"))
    assert code == 2
    assert "nope.zarr" in err


def test_unknown_option_is_exit_2(monkeypatch, capsys, tmp_path):
    code, _, err = call_cli(monkeypatch, capsys, "inspect", str(tmp_path), "--bogus")
    assert code == 2
    assert "--bogus" in err


class _Cfg(StageConfig):
    pass


def _posed_store(path) -> tuple[SceneStore, np.ndarray]:
    """A store with hand-made ingest + poses groups (two views of different sizes)."""
    store = SceneStore(path)
    sizes = [(64, 48), (48, 64)]
    c2w = np.stack(
        [look_at(np.array([2.0, -3.0, 1.0]), np.zeros(3)), look_at(np.array([-2.0, -3.0, 1.5]), np.zeros(3))]
    )

    def ingest(ctx):
        ctx.group.attrs["views"] = [
            {"name": f"v{i}", "source": f"images/v{i}.png", "width": w, "height": h, "scale": 1.0, "role": "train"}
            for i, (w, h) in enumerate(sizes)
        ]
        return {"views": 2}

    def poses(ctx):
        ctx.group.create_array("K", data=np.stack([intrinsics(40.0, w, h) for w, h in sizes]))
        ctx.group.create_array("c2w", data=c2w)
        ctx.group.create_array("registered", data=np.array([True, True]))
        ctx.group.create_array("near_far", data=np.array([[0.1, 5.0]] * 2, dtype=np.float32))
        ctx.group.attrs["normalization"] = {"center": [0.0, 0.0, 0.0], "scale": 1.0}
        return {"registered": 2}

    run_stage(store, StageSpec("ingest", 1), _Cfg(), ingest)
    run_stage(store, StageSpec("poses", 1, upstream=("ingest",)), _Cfg(), poses)
    return store, c2w


def test_inspect_json_lists_every_pipeline_stage(monkeypatch, capsys, tmp_path):
    store, _ = _posed_store(tmp_path / "s.zarr")
    code, out, _ = call_cli(monkeypatch, capsys, "inspect", store.url, "--json")
    assert code == 0
    info = json.loads(out)
    from stages.pipeline import PIPELINE

    assert set(info["stages"]) == {m.SPEC.name for m in PIPELINE}
    for record in info["stages"].values():
        assert {"complete", "status", "fingerprint", "config", "timings", "summary"} <= set(record)


def test_export_transforms_round_trips_cameras(monkeypatch, capsys, tmp_path):
    store, c2w = _posed_store(tmp_path / "s.zarr")
    out = tmp_path / "transforms.json"
    code, _, _ = call_cli(monkeypatch, capsys, "export", store.url, "--format", "transforms", "--out", str(out))
    assert code == 0
    frames = read_transforms(out)
    assert [(f.width, f.height) for f in frames] == [(64, 48), (48, 64)]
    assert np.allclose(np.stack([f.c2w for f in frames]), c2w)

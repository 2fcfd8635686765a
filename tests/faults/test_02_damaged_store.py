"""Case 2: a damaged store was reported healthy (after deleting an output array, `inspect` said
complete, the stage said "up to date", `export` exited 0). Completeness is now checked against
each stage's listed outputs: a damaged group is reported, refused to readers and recomputed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fault_helpers import one_line_error

from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.stage import StageSpec, StoreDamageWarning, run_stage, stage_status
from inpaint3d_core.store import SceneStore, StageNotReadyError, read_views, write_bytes, write_views

FIELD = StageSpec("inpaint", 1, upstream=("ingest", "poses", "masks"))


def _fit(calls: list[int]):
    def compute(ctx):
        calls.append(1)
        write_bytes(ctx.group, "field_weights", b"w" * 4096)
        write_views(ctx.group, "renders", [np.full((4, 4, 3), 7, np.uint8)] * 3)
        return {"calls": len(calls)}

    return compute


def test_deleted_output_is_reported_refused_and_recomputed(synthetic_store, cli):
    store, calls = synthetic_store, []
    run_stage(store, FIELD, StageConfig(), _fit(calls))
    shutil.rmtree(f"{store.url}/inpaint/field_weights")
    assert stage_status(store, FIELD) == "damaged"
    code, out, err = cli("inspect", store.url, "--json")
    assert code == 0
    info = json.loads(out)["stages"]["inpaint"]
    assert info["status"] == "damaged" and not info["complete"]
    assert any("field_weights" in problem for problem in info["damage"])
    with pytest.raises(StageNotReadyError, match="inpaint.*damaged.*field_weights"):
        store.read("inpaint")
    with pytest.warns(StoreDamageWarning, match="field_weights.*recomputing"):
        result = run_stage(store, FIELD, StageConfig(), _fit(calls))
    assert not result.skipped and len(calls) == 2
    assert stage_status(store, FIELD) == "complete"
    assert len(read_views(store.read("inpaint"), "renders")) == 3


def test_truncated_chunk_and_deleted_view_are_damage(synthetic_store):
    store = synthetic_store
    masks = f"{store.url}/masks/dilated"
    chunk = next(p for p in sorted(Path(masks).rglob("*")) if p.is_file() and "/c/" in str(p))
    chunk.write_bytes(chunk.read_bytes()[:-1])
    problems = store.damage("masks")
    assert len(problems) == 1 and "bytes" in problems[0]
    shutil.rmtree(f"{masks}/00002")
    assert len(store.damage("masks")) == 3  # the view's zarr.json and chunk, plus the truncated one
    assert store.intact_record("masks") is None and store.record("masks") is not None


def test_export_of_a_damaged_stage_is_exit_2(synthetic_store, cli):
    shutil.rmtree(f"{synthetic_store.url}/poses/c2w")
    code, _, err = cli("export", synthetic_store.url, "--format", "transforms", "--out", f"{synthetic_store.url}.json")
    assert code == 2
    assert "damaged" in one_line_error(err) and "c2w" in err


def test_a_fresh_store_lists_every_output(tmp_path):
    store = SceneStore(tmp_path / "s.zarr")
    run_stage(store, StageSpec("a", 1), StageConfig(), lambda ctx: write_bytes(ctx.group, "blob", b"x" * 10))
    outputs = store.record("a").outputs
    assert "blob/zarr.json" in outputs and any(k.startswith("blob/c") for k in outputs)
    assert store.damage("a") == []

"""The store's guarantees: atomic stage commits, fingerprint caching, one writer at a time."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.stage import StageSpec, run_stage, stage_status
from inpaint3d_core.store import (
    SceneStore,
    StageNotReadyError,
    StoreLockedError,
    read_bytes,
    read_view,
    write_bytes,
    write_views,
)


class CountConfig(StageConfig):
    value: int = 1


A = StageSpec("a", 1)
B = StageSpec("b", 1, upstream=("a",))
C = StageSpec("c", 1, upstream=("b",))


def make_compute(calls: list[str], name: str, fail: bool = False):
    def compute(ctx):
        calls.append(name)
        write_views(ctx.group, "images", [np.full((3, 4, 3), len(calls), np.uint8)])
        if fail:
            raise RuntimeError("boom inside the stage")
        return {"calls": len(calls)}

    return compute


def run_chain(store, calls, values=(1, 1, 1)):
    return [
        run_stage(store, spec, CountConfig(value=v), make_compute(calls, spec.name))
        for spec, v in zip((A, B, C), values, strict=True)
    ]


def test_rerun_with_same_config_skips(tmp_path):
    store, calls = SceneStore(tmp_path / "s.zarr"), []
    first = run_chain(store, calls)
    second = run_chain(store, calls)
    assert calls == ["a", "b", "c"]
    assert not any(r.skipped for r in first) and all(r.skipped for r in second)
    assert [r.fingerprint for r in first] == [r.fingerprint for r in second]


def test_changed_config_recomputes_that_stage_and_downstream_only(tmp_path):
    store, calls = SceneStore(tmp_path / "s.zarr"), []
    first = run_chain(store, calls)
    calls.clear()
    second = run_chain(store, calls, values=(1, 2, 1))
    assert calls == ["b", "c"]
    assert second[0].fingerprint == first[0].fingerprint
    assert second[1].fingerprint != first[1].fingerprint
    assert second[2].fingerprint != first[2].fingerprint  # new upstream fingerprint


def test_changed_code_version_recomputes_that_stage_and_downstream(tmp_path):
    store, calls = SceneStore(tmp_path / "s.zarr"), []
    first = run_chain(store, calls)
    calls.clear()
    new_b = dataclasses.replace(B, code_version=B.code_version + 1)  # B's behaviour changed
    assert stage_status(store, new_b) == "stale" and stage_status(store, A) == "complete"
    second = [run_stage(store, spec, CountConfig(), make_compute(calls, spec.name)) for spec in (A, new_b, C)]
    assert calls == ["b", "c"]
    assert [r.fingerprint == f.fingerprint for r, f in zip(second, first, strict=True)] == [True, False, False]
    assert store.record("b").code_version == new_b.code_version and stage_status(store, new_b) == "complete"


def test_upstream_change_marks_downstream_stale(tmp_path):
    store, calls = SceneStore(tmp_path / "s.zarr"), []
    run_chain(store, calls)
    run_stage(store, A, CountConfig(value=5), make_compute(calls, "a"))
    assert stage_status(store, A) == "complete"
    assert stage_status(store, B) == "stale"


def test_exception_leaves_no_group_and_earlier_stages_intact(tmp_path):
    store, calls = SceneStore(tmp_path / "s.zarr"), []
    run_chain(store, calls)
    before = read_view(store.read("a"), "images", 0).copy()
    old_b = store.record("b")
    with pytest.raises(RuntimeError, match="boom"):
        run_stage(store, B, CountConfig(value=9), make_compute(calls, "b", fail=True))
    assert np.array_equal(read_view(store.read("a"), "images", 0), before)
    assert store.record("b").fingerprint == old_b.fingerprint  # the previous complete result survives
    assert not [n for n in store.root.group_keys() if n.startswith("_tmp_")]


def test_failed_first_run_leaves_nothing_readable(tmp_path):
    store = SceneStore(tmp_path / "s.zarr")
    with pytest.raises(RuntimeError):
        run_stage(store, A, CountConfig(), make_compute([], "a", fail=True))
    assert store.record("a") is None
    with pytest.raises(StageNotReadyError, match="inpaint3d a"):
        store.read("a")


def test_missing_upstream_is_a_clear_error(tmp_path):
    store = SceneStore(tmp_path / "s.zarr")
    with pytest.raises(StageNotReadyError, match="needs the result of stage 'a'"):
        run_stage(store, B, CountConfig(), make_compute([], "b"))


def test_incomplete_group_is_never_read(tmp_path):
    """A group written without a complete record (a killed writer) is treated as absent."""
    store = SceneStore(tmp_path / "s.zarr")
    group = store.root.create_group("a")
    group.attrs["inpaint3d"] = {"complete": False}
    assert store.record("a") is None and store.stages() == []


def test_leftover_tmp_group_of_killed_writer_is_dropped(tmp_path):
    store = SceneStore(tmp_path / "s.zarr")
    store.root.create_group("_tmp_a_deadbeef")
    run_stage(store, A, CountConfig(), make_compute([], "a"))
    assert "_tmp_a_deadbeef" not in set(store.root.group_keys())


def test_concurrent_writer_is_refused(tmp_path):
    path = tmp_path / "s.zarr"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom inpaint3d_core.store import SceneStore\n"
            "s = SceneStore(sys.argv[1])\nwith s.writing():\n    print('locked', flush=True)\n    time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match=f"pid {holder.pid}"):
            run_stage(SceneStore(path), A, CountConfig(), make_compute([], "a"))
    finally:
        holder.kill()
        holder.wait()
    # Once the holder is dead its lock is stale and is taken over.
    result = run_stage(SceneStore(path), A, CountConfig(), make_compute([], "a"))
    assert not result.skipped


def test_stale_lock_from_dead_process_is_taken_over(tmp_path):
    path = tmp_path / "s.zarr"
    store = SceneStore(path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = {"host": socket.gethostname(), "pid": int(dead.stdout), "since": 0}
    with open(store.lock_path, "w") as f:
        json.dump(lock, f)
    run_stage(store, A, CountConfig(), make_compute([], "a"))
    assert not os.path.exists(store.lock_path)


def test_lock_of_another_host_is_respected(tmp_path):
    store = SceneStore(tmp_path / "s.zarr")
    with open(store.lock_path, "w") as f:
        json.dump({"host": "some-other-host", "pid": 1, "since": 0}, f)
    with pytest.raises(StoreLockedError, match="some-other-host"):
        run_stage(store, A, CountConfig(), make_compute([], "a"))


def test_scratch_survives_failure_and_resets_for_new_fingerprint(tmp_path):
    store = SceneStore(tmp_path / "s.zarr")
    seen = []

    def compute(ctx):
        scratch = ctx.scratch()
        seen.append(dict(scratch.attrs).get("step"))
        scratch.attrs["step"] = 7
        raise RuntimeError("killed")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            run_stage(store, A, CountConfig(), compute)
    with pytest.raises(RuntimeError):
        run_stage(store, A, CountConfig(value=3), compute)
    assert seen == [None, 7, None]


def test_fsspec_memory_store_and_blobs():
    store = SceneStore("memory://inpaint3d-test/s.zarr")

    def compute(ctx):
        write_bytes(ctx.group, "blob", b"\x00weights\xff")
        write_views(ctx.group, "v", [np.zeros((2, 2), np.uint8), np.ones((3, 5), np.uint8)])
        return {"n": np.int64(2)}

    result = run_stage(store, A, CountConfig(), compute)
    assert result.summary == {"n": 2}
    group = store.read("a")
    assert read_bytes(group, "blob") == b"\x00weights\xff"
    assert read_view(group, "v", 1).shape == (3, 5)

"""The single-capture flow on stand-in stages: caching agrees with the store, reruns are minimal,
retries skip bad input, a killed run resumes, and the GPU stage is serialised per GPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fake_stages import PIPELINE_REFS, make_capture
from prefect.artifacts import Artifact

from flows.pipeline_flow import inpaint_capture
from inpaint3d_core.errors import InputError
from inpaint3d_core.store import SceneStore

pytestmark = pytest.mark.usefixtures("prefect_harness")
REPO = Path(__file__).resolve().parents[2]


def run_flow(capture, store, **kwargs):
    kwargs.setdefault("retry_delay_s", 0.0)
    return inpaint_capture(capture=str(capture), store=str(store), pipeline=PIPELINE_REFS, **kwargs)


def outcomes(result) -> dict[str, str]:
    return {r["stage"]: r["outcome"] for r in result["stages"]}


def finished_at(store) -> dict[str, str]:
    scene = SceneStore(store)
    return {name: scene.record(name).finished_at + scene.record(name).fingerprint for name in scene.stages()}


def test_first_run_computes_every_stage_and_second_run_nothing(fake_capture, tmp_path):
    store = tmp_path / "scene.zarr"
    first = run_flow(fake_capture, store, job={"preset": "full"})
    assert first["name"] == "capture_a"
    assert set(outcomes(first).values()) == {"computed"}
    assert [r["stage"] for r in first["stages"]] == ["ingest", "poses", "masks", "inpaint", "evaluate"]
    assert first["stages"][3]["summary"]["preset"] == "full"  # job-level preset shared into the stage
    assert first["stages"][4]["summary"]["metrics"]["psnr"] == pytest.approx(23.0)
    records = finished_at(store)
    stage_table = json.loads(Artifact.get("capture-a-stages").data)
    assert [row["outcome"] for row in stage_table] == ["computed"] * 5
    metrics = {row["metric"]: row["value"] for row in json.loads(Artifact.get("capture-a-metrics").data)}
    assert metrics["metrics.psnr"] == pytest.approx(23.0)

    second = run_flow(fake_capture, store, job={"preset": "full"})
    assert set(outcomes(second).values()) == {"cached (prefect)"}
    assert all(r["seconds"] == first_r["seconds"] for r, first_r in zip(second["stages"], first["stages"], strict=True))
    assert finished_at(store) == records


def test_reruns_recompute_exactly_what_changed(fake_capture, tmp_path):
    store = tmp_path / "scene.zarr"
    run_flow(fake_capture, store)

    changed = run_flow(fake_capture, store, job={"masks": {"dilate_px": 5}})
    assert outcomes(changed) == {
        "ingest": "cached (prefect)",
        "poses": "cached (prefect)",
        "masks": "computed",
        "inpaint": "computed",
        "evaluate": "computed",
    }

    # The store lost a result that Prefect's cache still remembers: the store wins.
    SceneStore(store).invalidate("inpaint")
    lost = run_flow(fake_capture, store, job={"masks": {"dilate_px": 5}})
    assert outcomes(lost)["inpaint"] == "computed"
    assert outcomes(lost)["evaluate"] == "cached (prefect)"  # same inputs as before: still valid
    assert SceneStore(store).record("inpaint") is not None

    forced = run_flow(fake_capture, store, job={"masks": {"dilate_px": 5}}, force=["poses"])
    assert outcomes(forced)["poses"] == "computed"
    assert outcomes(forced)["masks"] == "cached (prefect)"


def test_transient_failure_is_retried_but_bad_input_fails_fast(tmp_path):
    counter = tmp_path / "attempts.txt"
    capture = make_capture(tmp_path / "cap", 2)
    result = run_flow(
        capture, tmp_path / "ok.zarr", job={"poses": {"fail_times": 2, "counter_file": str(counter)}}, retries=2
    )
    assert counter.read_text() == "3"
    assert outcomes(result)["poses"] == "computed"

    bad = make_capture(tmp_path / "bad", "not-a-number")
    started = time.perf_counter()
    with pytest.raises(InputError, match="value.txt"):
        run_flow(bad, tmp_path / "bad.zarr", retries=3, retry_delay_s=5.0)
    assert time.perf_counter() - started < 5.0  # no retry delay was spent on bad input


def test_invalid_job_names_stage_and_field(fake_capture, tmp_path):
    with pytest.raises(InputError, match=r"masks\.dilate_pix"):
        run_flow(fake_capture, tmp_path / "s.zarr", job={"masks": {"dilate_pix": 3}})


def test_flow_killed_mid_stage_resumes_with_earlier_stages_untouched(fake_capture, tmp_path):
    from prefect.settings import PREFECT_API_URL

    store = tmp_path / "scene.zarr"
    started_file = tmp_path / "masks-started"
    job = {"masks": {"sleep_s": 60.0, "started_file": str(started_file)}}
    script = (
        "import sys; from flows.settings import local_prefect_settings; "
        "from flows.pipeline_flow import inpaint_capture; from fake_stages import PIPELINE_REFS; "
        "import json\n"
        "with local_prefect_settings():\n"
        f"    inpaint_capture(capture={fake_capture!r}, store={str(store)!r}, job={job!r}, pipeline=PIPELINE_REFS)\n"
    )
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONPATH": f"{REPO}:{Path(__file__).parent}"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=REPO)
    try:
        deadline = time.time() + 60
        while not started_file.exists():
            assert proc.poll() is None, "flow subprocess exited before reaching the masks stage"
            assert time.time() < deadline, "flow subprocess never reached the masks stage"
            time.sleep(0.2)
        before = finished_at(store)
        assert set(before) == {"ingest", "poses"}
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    scene = SceneStore(store)
    assert Path(scene.lock_path).exists()  # the killed writer left its lock (stale now)
    assert any(name.startswith("_tmp_masks") for name in scene.root.group_keys())

    resumed = run_flow(fake_capture, store, job={"masks": {"sleep_s": 0.0, "started_file": str(started_file)}})
    assert outcomes(resumed)["ingest"] == "cached (prefect)"
    assert outcomes(resumed)["poses"] == "cached (prefect)"
    assert outcomes(resumed)["masks"] == "computed"
    after = finished_at(store)
    assert {k: after[k] for k in before} == before
    assert not any(name.startswith("_tmp_") for name in SceneStore(store).root.group_keys())


def test_gpu_stage_is_serialised_on_one_gpu(tmp_path, monkeypatch):
    """Two captures started together on the same GPU: their inpaint stages must not overlap."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    results = {}

    def one(name):
        capture = make_capture(tmp_path / name, 1)
        results[name] = run_flow(capture, tmp_path / f"{name}.zarr", job={"inpaint": {"sleep_s": 1.5}})

    threads = [threading.Thread(target=one, args=(name,)) for name in ("gpu_a", "gpu_b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    spans = sorted(
        (r["summary"]["started"], r["summary"]["finished"])
        for res in results.values()
        for r in res["stages"]
        if r["stage"] == "inpaint"
    )
    assert len(spans) == 2
    assert spans[0][1] <= spans[1][0], f"inpaint stages overlapped on one GPU: {spans}"
    slots = {r["gpu_slot"] for res in results.values() for r in res["stages"] if r["stage"] == "inpaint"}
    assert slots == {"gpu-7"}

"""The batch flow over an inbox: good captures complete, a corrupt one is recorded and does not stop
the others, done captures are skipped, a changed job file reruns its capture."""

from __future__ import annotations

import json

import fsspec
import pytest
from fake_stages import PIPELINE_REFS, make_capture

from flows.batch_flow import find_captures, inpaint_batch
from inpaint3d_core.store import SceneStore

pytestmark = pytest.mark.usefixtures("prefect_harness")


def run_batch(inbox, outbox, **kwargs):
    return inpaint_batch(inbox=str(inbox), outbox=str(outbox), pipeline=PIPELINE_REFS, retry_delay_s=0.0, **kwargs)


def test_batch_completes_good_captures_records_the_corrupt_one_and_skips_done(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    make_capture(inbox / "alpha", 1)
    make_capture(inbox / "broken", "garbage")
    make_capture(inbox / "gamma", 4)
    (inbox / "gamma" / "job.yaml").write_text("evaluate:\n  offset: 10.0\n")
    (inbox / ".hidden").mkdir()

    first = run_batch(inbox, outbox)
    assert first["completed"] == ["alpha", "gamma"]
    assert set(first["failed"]) == {"broken"}
    assert "value.txt" in first["failed"]["broken"]
    assert "value.txt" in (outbox / "broken.error.txt").read_text()
    assert not (outbox / "broken.done.json").exists()
    psnr = SceneStore(outbox / "gamma.zarr").record("evaluate").summary["metrics"]["psnr"]
    assert psnr == pytest.approx(14.0)  # the capture's job file was applied
    assert json.loads((outbox / "alpha.done.json").read_text())["store"].endswith("alpha.zarr")

    make_capture(inbox / "broken", 2)  # the user fixes the capture
    (inbox / "gamma" / "job.yaml").write_text("evaluate:\n  offset: 30.0\n")  # and changes a job
    second = run_batch(inbox, outbox)
    assert second["skipped"] == ["alpha"]
    assert sorted(second["completed"]) == ["broken", "gamma"]
    assert second["failed"] == {}
    assert not (outbox / "broken.error.txt").exists()
    assert SceneStore(outbox / "gamma.zarr").record("evaluate").summary["metrics"]["psnr"] == pytest.approx(34.0)


def test_bad_job_file_fails_only_its_capture(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    make_capture(inbox / "ok", 1)
    make_capture(inbox / "typo", 1)
    (inbox / "typo" / "job.yaml").write_text("masks: {dilate_pix: 3}\n")
    result = run_batch(inbox, outbox)
    assert result["completed"] == ["ok"]
    assert "masks.dilate_pix" in result["failed"]["typo"]


def test_inbox_on_an_fsspec_url(tmp_path):
    fs = fsspec.filesystem("memory")
    make_capture("memory://inbox-h7/remote_cap", 5)
    assert [c.name for c in find_captures("memory://inbox-h7")] == ["remote_cap"]
    result = run_batch("memory://inbox-h7", tmp_path / "out", staging_dir=str(tmp_path / "staging"))
    assert result["completed"] == ["remote_cap"]
    assert (tmp_path / "staging" / "inpaint3d-captures" / "remote_cap" / "value.txt").read_text() == "5"
    fs.rm("/inbox-h7", recursive=True)

"""`inpaint3d batch INBOX --outbox DIR`: the batch flow from the command line, one good and one broken capture."""

from __future__ import annotations

import json

import pytest
from cli_runner import call_cli
from fake_stages import PIPELINE_REFS, make_capture

from inpaint3d_core.store import SceneStore

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_batch_runs_the_good_capture_and_records_the_broken_one(monkeypatch, capsys, tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    make_capture(inbox / "good", 2)
    make_capture(inbox / "broken", "not a number")
    pipeline = [arg for ref in PIPELINE_REFS for arg in ("--pipeline", ref)]
    args = ["batch", str(inbox), "--outbox", str(outbox), *pipeline, "--retry-delay", "0"]

    code, out, _ = call_cli(monkeypatch, capsys, *args, "--set", "evaluate.offset=5")
    assert code == 1  # a capture failed: the exit code says so, the good one is done all the same
    assert "good" in out and "completed" in out and "broken" in out and "failed" in out
    assert json.loads((outbox / "good.done.json").read_text())["store"].endswith("good.zarr")
    assert SceneStore(outbox / "good.zarr").record("evaluate").summary["metrics"]["psnr"] == pytest.approx(7.0)
    assert "value.txt" in (outbox / "broken.error.txt").read_text()

    make_capture(inbox / "broken", 3)  # fixed: the next batch runs only it
    code, out, _ = call_cli(monkeypatch, capsys, *args, "--set", "evaluate.offset=5")
    assert code == 0 and "already done" in out
    assert (outbox / "broken.done.json").exists() and not (outbox / "broken.error.txt").exists()


def test_batch_usage_errors_are_exit_2(monkeypatch, capsys, tmp_path):
    code, _, err = call_cli(monkeypatch, capsys, "batch", str(tmp_path / "missing"), "--outbox", str(tmp_path / "o"))
    assert code == 2 and "missing" in err
    code, _, err = call_cli(monkeypatch, capsys, "batch", str(tmp_path), "--outbox", "o", "--dispatch", "cloud")
    assert code == 2 and "--dispatch" in err
    code, _, err = call_cli(monkeypatch, capsys, "batch", str(tmp_path), "--outbox", "o", "--retries", "-1")
    assert code == 2 and "--retries" in err


def test_batch_options_default_to_the_flows_own(monkeypatch, capsys, tmp_path):
    """Without batch flags the command hands the flow exactly the flow's (the deployment's) own
    defaults, not a second copy."""
    import inspect

    from flows.batch_flow import inpaint_batch
    from flows.commands import batch_cmd

    passed = {}

    def fake_run_batch(inbox, outbox, job=None, **options):
        passed.update(options)
        return {"completed": [], "skipped": [], "failed": {}}

    monkeypatch.setattr(batch_cmd, "run_batch", fake_run_batch)
    code, _, _ = call_cli(monkeypatch, capsys, "batch", str(tmp_path), "--outbox", str(tmp_path / "o"))
    assert code == 0
    flow_defaults = inspect.signature(inpaint_batch.fn).parameters
    for name in ("dispatch", "deployment", "retries", "retry_delay_s"):
        assert passed[name] == flow_defaults[name].default, name

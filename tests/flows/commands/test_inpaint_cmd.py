"""`inpaint3d inpaint STORE`: options become the stage config; bad options are exit code 2."""

from __future__ import annotations

from cli_runner import call_cli


def test_inpaint_command_runs_the_stage_and_reports(monkeypatch, capsys, synthetic_store):
    args = ["inpaint", synthetic_store.url, "--method", "recon_only", "--steps-scale", "0.015"]
    code, out, _ = call_cli(monkeypatch, capsys, *args, "--rays-per-batch", "64", "--device", "cpu")
    assert code == 0 and "recon_only" in out and "6 steps" in out
    assert synthetic_store.record("inpaint").config["rays_per_batch"] == 64
    code, out, _ = call_cli(monkeypatch, capsys, *args, "--rays-per-batch", "64", "--device", "cpu")
    assert code == 0 and "up to date" in out


def test_invalid_choices_are_usage_errors_naming_the_option(monkeypatch, capsys, synthetic_store):
    code, _, err = call_cli(monkeypatch, capsys, "inpaint", synthetic_store.url, "--method", "magic")
    assert code == 2 and "--method" in err
    code, _, err = call_cli(monkeypatch, capsys, "inpaint", synthetic_store.url, "--w-sds", "-1")
    assert code == 2 and "--w-sds" in err

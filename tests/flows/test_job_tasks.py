"""The edit task is resolved in the job: `inpaint.task` in a `--job` file or a batch inbox's
job.yaml runs the same stages with the same configs as `inpaint3d run --task` (expansion alone
swaps the masks stage for empty masks; replacement defaults to the text-conditioned prior)."""

from __future__ import annotations

import shutil

import pytest
import yaml
from typer.testing import CliRunner

from flows.batch_flow import inpaint_batch
from flows.cli import app
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_capture

pytestmark = pytest.mark.usefixtures("prefect_harness")
# Real ingest, poses and masks; the inpaint stand-in records its resolved config.
PIPELINE = ["stages.ingest", "stages.poses", "stages.masks", "config_stages:inpaint"]
TASKS = {
    "expansion": ({"task": "expansion"}, ["--task", "expansion"]),
    "replacement": (
        {"task": "replacement", "prior": {"prompt": "a red vase"}},
        ["--task", "replacement", "--prompt", "a red vase"],
    ),
}


def _configs(store) -> dict[str, dict]:
    """Each stage's recorded config (ingest's capture path aside: each entry point has its own copy)."""
    scene = SceneStore(store)
    configs = {name: scene.record(name).config for name in scene.stages()}
    configs["ingest"] = {k: v for k, v in configs["ingest"].items() if k != "capture"}
    return configs


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    """Synthetic captures with known poses: one with object masks, one without (expansion must
    still run on a capture that has none)."""
    root = tmp_path_factory.mktemp("captures")
    masked = write_capture(generate_scene(SyntheticConfig.preset("tiny")), root / "masked")
    plain = shutil.copytree(masked, root / "plain", ignore=shutil.ignore_patterns("masks"))
    return {"replacement": masked, "expansion": plain}


@pytest.mark.parametrize("task", TASKS)
def test_a_task_in_a_job_file_or_an_inbox_runs_what_the_cli_option_runs(task, captures, tmp_path):
    inpaint, options = TASKS[task]
    capture = captures[task]
    pipeline = [arg for ref in PIPELINE for arg in ("--pipeline", ref)]
    runner = CliRunner()
    by_option = runner.invoke(app, ["run", str(capture), "--store", str(tmp_path / "option.zarr"), *options, *pipeline])
    assert by_option.exit_code == 0, by_option.output
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump({"inpaint": inpaint}))
    args = ["run", str(capture), "--store", str(tmp_path / "file.zarr"), "--job", str(job), *pipeline]
    by_file = runner.invoke(app, args)
    assert by_file.exit_code == 0, by_file.output
    shutil.copytree(capture, tmp_path / "inbox" / "scene")
    shutil.copy(job, tmp_path / "inbox" / "scene" / "job.yaml")
    batch = inpaint_batch(inbox=str(tmp_path / "inbox"), outbox=str(tmp_path / "outbox"), pipeline=PIPELINE)
    assert batch["completed"] == ["scene"], batch

    expected = _configs(tmp_path / "option.zarr")
    assert _configs(tmp_path / "file.zarr") == expected
    assert _configs(tmp_path / "outbox" / "scene.zarr") == expected
    summary = SceneStore(tmp_path / "file.zarr").record("inpaint").summary
    if task == "expansion":  # the capture has no masks: the empty-masks stage ran in place of masks
        assert SceneStore(tmp_path / "file.zarr").record("masks").summary["method"] == "none"
        assert summary["task"] == "expansion"
    else:
        assert summary == {"task": "replacement", "prior": "stable_diffusion"}

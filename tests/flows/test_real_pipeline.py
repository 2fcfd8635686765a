"""The real pipeline (every stage of PIPELINE) through the flow on a tiny synthetic scene: the demo
path end to end, then a rerun from the command line with no Prefect server configured that
recomputes nothing and logs no errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest
import yaml
from prefect.artifacts import Artifact

from flows.commands.run_cmd import run_demo
from inpaint3d_core.store import SceneStore
from stages.pipeline import PIPELINE

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
# Toy sizes: 4 views of 48x36, a few reconstruction steps, a 2-frame path.
TINY_SCENE = {"width": 48, "height": 36, "n_views": 4}
TINY_JOB = {
    "inpaint": {"steps_scale": 0.01, "method": "recon_only"},
    "render": {"n_frames": 2, "compare": "none"},
    "evaluate": {"stills": 1},
}


def test_demo_runs_every_stage_and_a_cli_rerun_recomputes_nothing(tmp_path):
    out = tmp_path / "demo"
    result = run_demo(out, "quick", job=TINY_JOB, scene=TINY_SCENE)
    names = [module.SPEC.name for module in PIPELINE]
    assert [r["stage"] for r in result["stages"]] == names
    assert {r["outcome"] for r in result["stages"]} == {"computed"}
    store = SceneStore(out / "scene.zarr")
    assert store.stages() == sorted(names)
    assert result["exports"]["video"] and any(Path(result["exports"]["video"]).glob("*.mp4"))
    video = next(Path(result["exports"]["video"]).glob("*.mp4"))
    assert iio.imread(video).shape[0] == 2  # the 2-frame camera path
    assert (Path(result["exports"]["report"]) / "report.html").stat().st_size > 0
    before = {name: store.record(name).finished_at for name in names}
    assert Artifact.get("capture-report-report").data.endswith("/report/report.html)")  # markdown link

    job_file = tmp_path / "job.yaml"
    job_file.write_text(yaml.safe_dump({"preset": "quick", **TINY_JOB}))
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # no server: the temporary one
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(out / "capture"), "--store", str(out / "scene.zarr")]
        + ["--job", str(job_file)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "computed" not in log and log.count("cached (prefect)") == len(names)
    assert "ERROR" not in log and "Traceback" not in log
    assert {name: SceneStore(out / "scene.zarr").record(name).finished_at for name in names} == before

"""`inpaint3d run`: job file + options become the flow's job, the flow runs, the table is printed."""

from __future__ import annotations

import pytest
from fake_stages import PIPELINE_REFS, make_capture
from typer.testing import CliRunner

from flows.cli import app
from flows.commands.run_cmd import parse_overrides
from inpaint3d_core.errors import InputError
from inpaint3d_core.store import SceneStore


def test_parse_overrides_reads_values_as_yaml():
    assert parse_overrides(["masks.dilate_px=4", "inpaint.prompt=a red chair", "a.b=[1, 2]", "a.c=true"]) == {
        "masks": {"dilate_px": 4},
        "inpaint": {"prompt": "a red chair"},
        "a": {"b": [1, 2], "c": True},
    }
    with pytest.raises(InputError, match="STAGE.FIELD=VALUE"):
        parse_overrides(["dilate_px=4"])


@pytest.mark.usefixtures("prefect_harness")
def test_run_command_goes_through_the_flow_and_reuses_results(tmp_path):
    capture = make_capture(tmp_path / "my_capture", 2)
    store = tmp_path / "scene.zarr"
    job = tmp_path / "job.yaml"
    job.write_text("preset: full\nevaluate: {offset: 1.0}\n")
    args = ["run", capture, "--store", str(store), "--job", str(job), "--set", "masks.dilate_px=3"]
    args += [arg for ref in PIPELINE_REFS for arg in ("--pipeline", ref)]
    runner = CliRunner()

    first = runner.invoke(app, [*args, "--preset", "quick"])
    assert first.exit_code == 0, first.output
    assert "my_capture" in first.output and "computed" in first.output
    scene = SceneStore(store)
    assert scene.record("inpaint").summary["preset"] == "quick"  # the option beats the job file
    assert scene.record("masks").config["dilate_px"] == 3
    assert scene.record("evaluate").summary["metrics"]["psnr"] == pytest.approx(3.0)

    second = runner.invoke(app, [*args, "--preset", "quick"])
    assert second.exit_code == 0, second.output
    assert "computed" not in second.output and second.output.count("cached") == 5

    bad = runner.invoke(app, [*args, "--set", "masks.no_such_option=1"])
    assert isinstance(bad.exception, InputError)
    assert "masks.no_such_option" in str(bad.exception)


def test_mask_and_prior_options_become_job_sections():
    from flows.commands.run_cmd import mask_values, prior_values

    assert mask_values(mask_method=None, sphere="0,0,0,0.5", dilate_px=3, points=[], coordinates=None) == {
        "sphere": [0.0, 0.0, 0.0, 0.5],
        "dilate_px": 3,
    }  # the masks parser's own defaults (method, coordinates) are not forced onto the job
    assert mask_values(mask_method="sphere", sphere="0,0,0,0.5")["method"] == "sphere"
    assert mask_values(mask_dir=None, reference_masks=[]) == {}
    with pytest.raises(InputError, match="sphere"):
        mask_values(sphere="1,2")
    assert prior_values(prior="stable_diffusion", prompt="a vase", guidance_scale=None) == {
        "prior": "stable_diffusion",
        "prompt": "a vase",
    }

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
    items = [
        "masks.dilate_px=4",
        "inpaint.prior.prompt=a red chair",
        "inpaint.sds.t_min=0.05",
        "a.b=[1, 2]",
        "a.c=true",
    ]
    assert parse_overrides(items) == {
        "masks": {"dilate_px": 4},
        "inpaint": {"prior": {"prompt": "a red chair"}, "sds": {"t_min": 0.05}},
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


@pytest.fixture
def run_values(monkeypatch):
    """`inpaint3d run ARGS` -> the job values it hands to the flow (the flow itself is not run)."""
    import flows.commands.run_cmd as run_cmd

    seen: dict = {}

    def capture(capture, store, job, **_):
        seen.update(job)
        return {"name": "capture", "store": store, "stages": [], "exports": {}}

    monkeypatch.setattr(run_cmd, "run_pipeline", capture)

    def run(*args: str) -> dict:
        seen.clear()
        result = CliRunner().invoke(app, ["run", "capture", "--store", "s.zarr", *map(str, args)])
        if result.exception is not None:
            raise result.exception
        return dict(seen)

    return run


def test_mask_and_prior_options_become_job_sections_only_when_given(run_values):
    values = run_values("--sphere", "0,0,0,0.5", "--dilate", "3", "--prior", "stable_diffusion", "--prompt", "a vase")
    assert values == {
        "masks": {"sphere": [0.0, 0.0, 0.0, 0.5], "dilate_px": 3},  # no config default is forced onto the job
        "inpaint": {"prior": {"kind": "stable_diffusion", "prompt": "a vase"}},
    }
    assert run_values("--mask-method", "sphere", "--sphere", "0,0,0,0.5")["masks"]["method"] == "sphere"
    assert run_values("--allow-missing-masks")["masks"] == {"missing_masks": "unmasked"}
    assert run_values() == {}
    with pytest.raises(InputError, match="--sphere"):
        run_values("--sphere", "1,2")
    assert run_values("--expand-cameras", "wider", "--fov-factor", "2")["inpaint"] == {
        "expansion": {"cameras": "wider", "fov_factor": 2.0}
    }
    with pytest.raises(InputError, match="--expand-cameras"):
        run_values("--expand-cameras", "sideways")


def test_sds_settings_from_a_job_file_and_set_reach_the_trainer(run_values, tmp_path, synthetic_store, monkeypatch):
    """A job file's `inpaint.sds` section, merged with a nested --set, is what the trainer's prior uses."""
    from flows.job import build_job, default_pipeline_refs, resolve_stage
    from inpaint3d_core.priors.config import SDSConfig
    from stages import inpaint as inpaint_stage

    job = tmp_path / "job.yaml"
    job.write_text(
        "inpaint:\n  prior: {internal_preset: tiny, internal_steps: 1}\n  sds: {t_min: 0.05, grad_clip: 2.0}\n"
    )
    values = run_values("--job", job, "--set", "inpaint.sds.t_max_start=0.9", "--set", "inpaint.device=cpu")
    spec = build_job([resolve_stage(ref) for ref in default_pipeline_refs()], {**values, "capture": "c", "store": "s"})

    class Stop(Exception):
        pass

    received = {}

    def trainer(views, config, prior, *args, **kwargs):
        received.update(config=config, prior=prior)
        raise Stop

    monkeypatch.setattr(inpaint_stage, "JointTrainer", trainer)
    with pytest.raises(Stop):
        inpaint_stage.run(synthetic_store, spec.stage_config("inpaint"))
    assert received["prior"].sds == SDSConfig(t_min=0.05, t_max_start=0.9, grad_clip=2.0)

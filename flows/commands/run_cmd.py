"""`inpaint3d run CAPTURE --store STORE` and `inpaint3d demo`: the whole pipeline through the Prefect flow.

Both work with no Prefect server configured (Prefect then starts its temporary local server in
this process, tied to it by `flows.server_guard`); with `PREFECT_API_URL` set, the run is
recorded on that server like any other. Prefect is imported only inside the commands so the
other commands start quickly, and the job, the capture and the store are checked before Prefect
starts (`check_run`), so a mistake is one line and exit code 2 within a second, not 20 s later.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Literal

import typer

from flows.commands import inpaint_cmd, masks_cmd
from flows.commands.options import Option, OptionTable, field_help, parse_overrides, with_options
from flows.interrupts import report_interrupt
from flows.settings import drop_empty_api_url, local_prefect_settings
from inpaint3d_core.errors import InputError

DemoPreset = Literal["quick", "full"]


def run_pipeline(
    capture: str,
    store: str,
    job: dict[str, Any],
    pipeline: list[str] | None = None,
    force: list[str] | None = None,
    export_dir: str | None = None,
) -> dict[str, Any]:
    """Run the single-capture flow from this process with the local Prefect defaults."""
    check_run(capture, store, job, pipeline)
    drop_empty_api_url()
    from flows.pipeline_flow import inpaint_capture
    from flows.server_guard import guard_temporary_server

    with local_prefect_settings(), report_interrupt(store):
        guard_temporary_server()
        return inpaint_capture(
            capture=capture, store=store, job=job, pipeline=pipeline, force=force, export_dir=export_dir
        )


def check_run(capture: str, store: str, job: dict[str, Any], pipeline: list[str] | None = None) -> None:
    """What the flow would refuse, refused before Prefect starts: an unknown stage, a bad job value,
    a missing local capture, a store location that cannot be (or must not be) written."""
    from flows.job import merge_job_values, resolve_job
    from inpaint3d_core.store import SceneStore

    resolve_job(merge_job_values(job, {"capture": capture, "store": store}), pipeline)
    if "://" not in capture and not Path(capture).expanduser().exists():
        raise InputError(f"capture {capture} not found; pass a folder of photos, a video or a posed capture folder")
    SceneStore(store)


def print_result(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['name']}: {result['store']}")
    for column in ("stage", "outcome", "seconds", "fingerprint"):
        table.add_column(column)
    for stage in result["stages"]:
        table.add_row(stage["stage"], stage["outcome"], f"{stage['seconds']:.1f}", stage["fingerprint"])
    console = Console()
    console.print(table)
    for fmt, path in result["exports"].items():
        console.print(f"{fmt}: {path}")


# The stage options `run` offers: the masks command's (its --method is --mask-method here, beside
# the inpaint stage's --method) and the inpaint command's prior and expansion options.
MASK_OPTIONS = OptionTable(
    "masks",
    masks_cmd.Config,
    (
        Option("method", ("--mask-method",)),
        *(o for o in masks_cmd.OPTIONS.options if o.field not in ("method", "mask_threshold")),
    ),
    help_prefix="Masks: ",
)
INPAINT_OPTIONS = OptionTable(
    "inpaint",
    inpaint_cmd.Config,
    (
        Option("method"),
        *inpaint_cmd.PRIOR_OPTIONS,
        Option("steps_scale"),
        *inpaint_cmd.EXPANSION_OPTIONS,
    ),
    help_prefix="Inpaint: ",
)


@with_options(MASK_OPTIONS, INPAINT_OPTIONS)
def run(
    capture: str = typer.Argument(..., help="Capture folder (photos, video, LLFF/SPIn-NeRF, synthetic) or fsspec URL."),
    store: str = typer.Option(..., "--store", help="Scene store to write (path or fsspec URL)."),
    job: Path | None = typer.Option(
        None, "--job", help="Job file (YAML/JSON): preset, protocol, one section per stage."
    ),
    preset: str | None = typer.Option(None, "--preset", help="Preset for every stage that has one (quick, full)."),
    protocol: str | None = typer.Option(None, "--protocol", help="Evaluation protocol, e.g. spinnerf."),
    prompt_file: str | None = typer.Option(None, "--sam-prompt", help="Masks: JSON/YAML file of SAM prompts per view."),
    points: list[str] = typer.Option(
        [], "--sam-point", "--point", help="Masks: SAM click VIEW:X,Y (object) or VIEW:X,Y:0."
    ),
    boxes: list[str] = typer.Option([], "--sam-box", help="Masks: SAM box VIEW:X0,Y0,X1,Y1 (2D, one view's pixels)."),
    task: str | None = typer.Option(None, "--task", help=field_help(inpaint_cmd.Config, "task")),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any stage option STAGE.FIELD=VALUE (repeatable), e.g. --set render.n_frames=30."
    ),
    force: list[str] = typer.Option([], "--force", help="Recompute this stage even if current (repeatable)."),
    export: Path | None = typer.Option(None, "--export", help="Also export videos, report and cameras here."),
    pipeline: list[str] = typer.Option(
        [], "--pipeline", help="Advanced: stage modules to run, in order (default: the full pipeline)."
    ),
    *,
    options: dict,
) -> None:
    """Run the whole pipeline on one capture through the Prefect flow (cached stages are reused).

    Precedence: job file < --preset/--protocol < mask and prior options < --set < --task; the job's
    task then fills in what it implies and was not given (replacement: the stable_diffusion prior),
    as it does for a job file, a batch inbox or a deployment (`flows.job.resolve_job`).
    """
    from flows.job import load_job_file, merge_job_values

    masks = masks_cmd.mask_values(options["masks"], prompt_file, points, boxes)
    values = merge_job_values(
        load_job_file(str(job)) if job else None,
        {"preset": preset, "protocol": protocol},
        {"masks": masks or None, "inpaint": options["inpaint"] or None},
        parse_overrides(overrides),
        {"inpaint": {"task": task}} if task is not None else None,
    )
    result = run_pipeline(
        capture,
        store,
        values,
        pipeline=pipeline or None,
        force=force or None,
        export_dir=str(export) if export else None,
    )
    print_result(result)


def run_demo(
    out: Path, preset: DemoPreset, job: dict[str, Any] | None = None, scene: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Generate the synthetic demo capture under `out`, run the pipeline on it, export the outputs.

    job: extra job values (over `preset`); scene: SyntheticConfig overrides (tests shrink the scene).
    """
    from flows.job import merge_job_values
    from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_capture

    capture = out / "capture"
    config = SyntheticConfig.preset(preset, **(scene or {}))
    description = capture / "scene.json"
    # Regenerated only when missing or made with other settings: a rerun reuses every cached stage.
    # A folder there that the demo did not write (no scene.json) is the user's and is never deleted.
    if capture.exists() and not description.is_file() and any(capture.iterdir()):
        raise InputError(
            f"{capture} exists and was not written by the demo (no scene.json): pass another --out, "
            "or move that folder away"
        )
    if not description.exists() or json.loads(description.read_text()).get("config") != config.model_dump(mode="json"):
        shutil.rmtree(capture, ignore_errors=True)
        write_capture(generate_scene(config), capture)
    return run_pipeline(
        str(capture), str(out / "scene.zarr"), merge_job_values({"preset": preset}, job), export_dir=str(out)
    )


def demo(
    out: Path = typer.Option(Path("outputs/demo"), "--out", help="Folder for the capture, the store and the outputs."),
    preset: str = typer.Option("quick", "--preset", help="quick (CPU, minutes) or full (GPU)."),
) -> None:
    """Synthetic scene with a removable object -> whole pipeline -> videos, report and metrics under --out."""
    if preset not in ("quick", "full"):
        raise InputError(f"--preset {preset!r}: choose quick or full")
    result = run_demo(out, preset)  # type: ignore[arg-type]
    print_result(result)
    typer.echo(f"capture: {out / 'capture'}\nscene store: {out / 'scene.zarr'}")

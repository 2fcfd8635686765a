"""`inpaint3d run CAPTURE --store STORE` and `inpaint3d demo`: the whole pipeline through the Prefect flow.

Both work with no Prefect server configured (Prefect then starts its temporary local server in
this process); with `PREFECT_API_URL` set, the run is recorded on that server like any other.
Prefect is imported only inside the commands so the other commands start quickly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Literal

import typer
import yaml
from rich.console import Console
from rich.table import Table

from flows.job import load_job_file, merge_job_values
from flows.settings import drop_empty_api_url, local_prefect_settings
from inpaint3d_core.errors import InputError

DemoPreset = Literal["quick", "full"]


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`--set STAGE.FIELD=VALUE` options as job values (VALUE read as YAML: 3, 0.5, true, [1, 2])."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        stage, dot, field = key.strip().partition(".")
        if not sep or not dot or not stage or not field:
            raise InputError(f"--set {item!r}: expected STAGE.FIELD=VALUE, e.g. --set inpaint.preset=full")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise InputError(f"--set {item!r}: the value is not valid YAML ({exc})") from exc
        values.setdefault(stage, {})[field] = value
    return values


def run_pipeline(
    capture: str,
    store: str,
    job: dict[str, Any],
    pipeline: list[str] | None = None,
    force: list[str] | None = None,
    export_dir: str | None = None,
) -> dict[str, Any]:
    """Run the single-capture flow from this process with the local Prefect defaults."""
    drop_empty_api_url()
    from flows.pipeline_flow import inpaint_capture

    with local_prefect_settings():
        return inpaint_capture(
            capture=capture, store=store, job=job, pipeline=pipeline, force=force, export_dir=export_dir
        )


def print_result(result: dict[str, Any]) -> None:
    table = Table(title=f"{result['name']}: {result['store']}")
    for column in ("stage", "outcome", "seconds", "fingerprint"):
        table.add_column(column)
    for stage in result["stages"]:
        table.add_row(stage["stage"], stage["outcome"], f"{stage['seconds']:.1f}", stage["fingerprint"])
    console = Console()
    console.print(table)
    for fmt, path in result["exports"].items():
        console.print(f"{fmt}: {path}")


def run(
    capture: str = typer.Argument(..., help="Capture folder (photos, video, LLFF/SPIn-NeRF, synthetic) or fsspec URL."),
    store: str = typer.Option(..., "--store", help="Scene store to write (path or fsspec URL)."),
    job: Path | None = typer.Option(
        None, "--job", help="Job file (YAML/JSON): preset, protocol, one section per stage."
    ),
    preset: str | None = typer.Option(None, "--preset", help="Preset for every stage that has one (quick, full)."),
    protocol: str | None = typer.Option(None, "--protocol", help="Evaluation protocol, e.g. spinnerf."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Stage option STAGE.FIELD=VALUE (repeatable), e.g. --set masks.dilate_px=4."
    ),
    force: list[str] = typer.Option([], "--force", help="Recompute this stage even if current (repeatable)."),
    export: Path | None = typer.Option(None, "--export", help="Also export videos, report and cameras here."),
    pipeline: list[str] = typer.Option(
        [], "--pipeline", help="Advanced: stage modules to run, in order (default: the full pipeline)."
    ),
) -> None:
    """Run the whole pipeline on one capture through the Prefect flow (cached stages are reused)."""
    values = merge_job_values(
        load_job_file(str(job)) if job else None,
        {"preset": preset, "protocol": protocol},
        parse_overrides(overrides),
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


def run_demo(out: Path, preset: DemoPreset, job: dict[str, Any] | None = None) -> dict[str, Any]:
    """Generate the synthetic demo capture under `out`, run the pipeline on it, export the outputs."""
    from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_capture

    capture = out / "capture"
    config = SyntheticConfig.preset(preset)
    description = capture / "scene.json"
    # Regenerated only when missing or made with other settings: a rerun reuses every cached stage.
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

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

from flows.commands.options import parse_overrides
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


# Options of `inpaint3d masks` that always get a value from its parser; on `run` they count only
# when given, so a job file's choice is not silently replaced by a command-line default.
_MASK_DEFAULTED = {"method": "mask_method", "sam_model": "sam_model", "coordinates": "coordinates"}


def mask_values(**options: Any) -> dict[str, Any]:
    """Mask options of `run` -> the `masks` job section, through the masks command's own parser."""
    from flows.commands.masks_cmd import masks_config

    given = {k: v for k, v in options.items() if v not in (None, [], ())}
    if not given:
        return {}
    parsed = masks_config(
        method=given.get("mask_method", "auto"), **{k: v for k, v in given.items() if k != "mask_method"}
    )
    values = parsed.model_dump(mode="json", exclude_unset=True)
    return {k: v for k, v in values.items() if k not in _MASK_DEFAULTED or _MASK_DEFAULTED[k] in given}


def prior_values(**options: Any) -> dict[str, Any]:
    """Prior options of `run` -> the `inpaint` job section (only those given)."""
    return {k: v for k, v in options.items() if v is not None}


def expansion_values(**options: Any) -> dict[str, Any]:
    """Expansion options of `run`/`inpaint` -> the `inpaint.expansion` section (only those given)."""
    given = {k: v for k, v in options.items() if v is not None}
    return {"expansion": given} if given else {}


def run(
    capture: str = typer.Argument(..., help="Capture folder (photos, video, LLFF/SPIn-NeRF, synthetic) or fsspec URL."),
    store: str = typer.Option(..., "--store", help="Scene store to write (path or fsspec URL)."),
    job: Path | None = typer.Option(
        None, "--job", help="Job file (YAML/JSON): preset, protocol, one section per stage."
    ),
    preset: str | None = typer.Option(None, "--preset", help="Preset for every stage that has one (quick, full)."),
    protocol: str | None = typer.Option(None, "--protocol", help="Evaluation protocol, e.g. spinnerf."),
    mask_method: str | None = typer.Option(
        None, "--mask-method", help="Masks: auto, import, propagate, sam, sphere, box or polygon."
    ),
    mask_dir: str | None = typer.Option(None, "--mask-dir", help="Masks: folder of mask images named like the views."),
    reference_masks: list[str] = typer.Option(
        [], "--reference-mask", help="Masks: mask image of one view (stem = view's stem), propagated; repeatable."
    ),
    sam_checkpoint: str | None = typer.Option(None, "--sam-checkpoint", help="Masks: SAM checkpoint file."),
    sam_model: str | None = typer.Option(None, "--sam-model", help="Masks: auto, vit_b, vit_l or vit_h."),
    prompt_file: str | None = typer.Option(None, "--sam-prompt", help="Masks: JSON/YAML file of SAM prompts per view."),
    points: list[str] = typer.Option(
        [], "--sam-point", "--point", help="Masks: SAM click VIEW:X,Y (object) or VIEW:X,Y:0."
    ),
    boxes: list[str] = typer.Option([], "--sam-box", help="Masks: SAM box VIEW:X0,Y0,X1,Y1 (2D, one view's pixels)."),
    sphere: str | None = typer.Option(None, "--sphere", help="Masks: 3D sphere X,Y,Z,R."),
    box: str | None = typer.Option(None, "--box-3d", help="Masks: 3D box X,Y,Z,SX,SY,SZ."),
    coordinates: str | None = typer.Option(None, "--coordinates", help="Masks: frame of --sphere/--box-3d."),
    dilate_px: int | None = typer.Option(None, "--dilate", help="Masks: dilation in pixels."),
    allow_missing_masks: bool | None = typer.Option(
        None, "--allow-missing-masks", help="Masks: train views with no mask file unmasked instead of failing."
    ),
    method: str | None = typer.Option(None, "--method", help="Inpaint: joint, recon_only, per_view or classical."),
    prior: str | None = typer.Option(None, "--prior", help="Inpaint: internal or stable_diffusion."),
    prior_model: str | None = typer.Option(
        None, "--prior-model", help="Inpaint: diffusers inpainting model folder/id."
    ),
    prompt: str | None = typer.Option(
        None, "--text-prompt", "--prompt", help="Inpaint: text prompt (stable_diffusion only)."
    ),
    negative_prompt: str | None = typer.Option(None, "--negative-prompt", help="Inpaint: negative prompt."),
    guidance_scale: float | None = typer.Option(None, "--guidance-scale", help="Inpaint: classifier-free guidance."),
    steps_scale: float | None = typer.Option(None, "--steps-scale", help="Inpaint: multiply every step count."),
    task: str | None = typer.Option(
        None, "--task", help="Edit: removal (default), completion, replacement (with --text-prompt) or expansion."
    ),
    expand_cameras: str | None = typer.Option(
        None, "--expand-cameras", help="Expansion: virtual cameras wider, extend (past the path's ends) or both."
    ),
    fov_factor: float | None = typer.Option(None, "--fov-factor", help="Expansion: wider views' image side x this."),
    extend_views: int | None = typer.Option(
        None, "--extend-views", help="Expansion: virtual cameras added past each end of the path."
    ),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any stage option STAGE.FIELD=VALUE (repeatable), e.g. --set render.n_frames=30."
    ),
    force: list[str] = typer.Option([], "--force", help="Recompute this stage even if current (repeatable)."),
    export: Path | None = typer.Option(None, "--export", help="Also export videos, report and cameras here."),
    pipeline: list[str] = typer.Option(
        [], "--pipeline", help="Advanced: stage modules to run, in order (default: the full pipeline)."
    ),
) -> None:
    """Run the whole pipeline on one capture through the Prefect flow (cached stages are reused).

    Precedence: job file < --preset/--protocol < mask and prior options < --set < --task; the job's
    task then fills in what it implies and was not given (replacement: the stable_diffusion prior),
    as it does for a job file, a batch inbox or a deployment (`flows.job.resolve_job`).
    """
    from flows.job import load_job_file, merge_job_values

    masks = mask_values(
        mask_method=mask_method, mask_dir=mask_dir, reference_masks=reference_masks, sam_checkpoint=sam_checkpoint,
        sam_model=sam_model, prompt_file=prompt_file, points=points, boxes=boxes, sphere=sphere, box=box,
        coordinates=coordinates, dilate_px=dilate_px, allow_missing_masks=allow_missing_masks,
    )  # fmt: skip
    inpaint = prior_values(
        method=method, prior=prior, prior_model=prior_model, prompt=prompt, negative_prompt=negative_prompt,
        guidance_scale=guidance_scale, steps_scale=steps_scale,
    )  # fmt: skip
    inpaint.update(expansion_values(cameras=expand_cameras, fov_factor=fov_factor, extend_views=extend_views))
    values = merge_job_values(
        load_job_file(str(job)) if job else None,
        {"preset": preset, "protocol": protocol},
        {"masks": masks or None, "inpaint": inpaint or None},
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

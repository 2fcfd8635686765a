"""`inpaint3d inpaint STORE`: optimise the NeRF with reconstruction + SDS (or run a baseline method)."""

from __future__ import annotations

import typer

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import option_name, stage_config, with_overrides
from flows.interrupts import report_interrupt

# The loss weights' defaults as shown by `--help` (LossWeights' own defaults; a test keeps them equal).
# Written out because importing `inpaint3d_core.joint.config` pulls in torch, and `--help` must not.
WEIGHT_DEFAULTS = {"rgb": 1.0, "sds": 0.05, "depth": 0.1, "freespace": 0.05, "opacity": 0.01}


def _weight(term: str, what: str):
    return typer.Option(None, f"--w-{term}", help=f"Weight of {what}.", show_default=str(WEIGHT_DEFAULTS[term]))


def inpaint(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after ingest, poses and masks)."),
    preset: str = typer.Option("quick", help="quick (CPU, minutes) or full (GPU)."),
    steps_scale: float = typer.Option(1.0, help="Multiply every step count of the preset."),
    method: str = typer.Option("joint", help="joint, or a baseline: recon_only, per_view, classical."),
    prior: str = typer.Option("internal", help="internal (trained on this capture) or stable_diffusion."),
    prior_model: str | None = typer.Option(None, help="Stable Diffusion inpainting hub id or local folder."),
    prior_preset: str | None = typer.Option(None, help="InternalPrior size: tiny, quick or full (default: preset)."),
    prompt: str = typer.Option(
        "", "--text-prompt", "--prompt", help="Text prompt for replacement (stable_diffusion only)."
    ),
    negative_prompt: str = typer.Option("", help="Negative prompt (stable_diffusion only)."),
    guidance_scale: float = typer.Option(7.5, help="Classifier-free guidance scale (stable_diffusion)."),
    w_rgb: float | None = _weight("rgb", "the reconstruction loss"),
    w_sds: float | None = _weight("sds", "the SDS loss"),
    w_depth: float | None = _weight("depth", "the hole depth loss"),
    w_freespace: float | None = _weight("freespace", "the hole free-space loss"),
    w_opacity: float | None = _weight("opacity", "the hole opacity loss"),
    depth_supervision: bool = typer.Option(True, help="Fill and supervise the hole's depth."),
    sds_region: str = typer.Option(
        "unobserved", help="SDS paints hole pixels no other view observes (unobserved) or the whole mask (mask)."
    ),
    rays_per_batch: int | None = typer.Option(None, help="Rays per step (lower it when out of GPU memory)."),
    sampler: str | None = typer.Option(None, help="Ray sampler: auto, stratified or occupancy (default: preset)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    seed: int = typer.Option(0, help="Seed of initialisation, ray sampling and the prior."),
    task: str = typer.Option(
        "removal", help="Edit: removal, completion, replacement (with --text-prompt) or expansion."
    ),
    expand_cameras: str = typer.Option("both", help="Expansion: virtual cameras wider, extend or both."),
    fov_factor: float = typer.Option(1.5, help="Expansion: wider views' image side x this (same focal length)."),
    extend_views: int = typer.Option(2, help="Expansion: virtual cameras added past each end of the path."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of the inpaint config, FIELD=VALUE (e.g. weights.sds=0.1); repeatable."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
) -> None:
    """Fill the masked region in 3D: one NeRF, reconstruction outside the masks, SDS + depth inside."""
    weights = {"rgb": w_rgb, "sds": w_sds, "depth": w_depth, "freespace": w_freespace, "opacity": w_opacity}
    config = _config(
        overrides,
        preset=preset,
        steps_scale=steps_scale,
        method=method,
        prior=prior,
        prior_model=prior_model,
        prior_preset=prior_preset,
        prompt=prompt,
        negative_prompt=negative_prompt,
        guidance_scale=guidance_scale,
        weights={term: value for term, value in weights.items() if value is not None},
        depth_supervision=depth_supervision,
        sds_region=sds_region,
        rays_per_batch=rays_per_batch,
        sampler=sampler,
        device=device,
        seed=seed,
        task=task,
        expansion={"cameras": expand_cameras, "fov_factor": fov_factor, "extend_views": extend_views},
    )
    from stages import inpaint as inpaint_stage

    with report_interrupt(store):
        result = inpaint_stage.run(open_existing_store(store), config, force=force)
    summary = result.summary
    if result.skipped:
        typer.echo("inpaint up to date")
        return
    losses = ", ".join(f"{k}={v:.4g}" for k, v in summary["final_losses"].items() if v is not None)
    typer.echo(
        f"inpaint ({summary['method']}) done in {result.seconds:.1f} s on {summary['device']}: "
        f"{summary['steps']} steps, {summary['skipped_steps']} skipped; final {losses}"
    )


def _config(overrides: list[str], **options):
    """Options (and `--set` items) as a typed stage config; an invalid choice is a usage error naming the option."""
    from stages import inpaint as inpaint_stage

    return stage_config("inpaint", inpaint_stage.Config, _option_name, **with_overrides("inpaint", options, overrides))


def _option_name(loc: tuple) -> str:
    """The CLI option behind a config field (loss weights are the flat --w-* options)."""
    if loc and loc[0] == "weights" and len(loc) > 1:
        return f"--w-{loc[1]}"
    if loc and loc[0] == "expansion" and len(loc) > 1:
        return {"cameras": "--expand-cameras"}.get(str(loc[1]), "--" + str(loc[1]).replace("_", "-"))
    return option_name(loc)

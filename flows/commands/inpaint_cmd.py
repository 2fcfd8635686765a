"""`inpaint3d inpaint STORE`: optimise the NeRF with reconstruction + SDS (or run a baseline method)."""

from __future__ import annotations

import typer

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import option_name, stage_config
from flows.interrupts import report_interrupt
from inpaint3d_core.joint.config import LossWeights
from stages import inpaint as inpaint_stage


def inpaint(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after ingest, poses and masks)."),
    preset: str = typer.Option("quick", help="quick (CPU, minutes) or full (GPU)."),
    steps_scale: float = typer.Option(1.0, help="Multiply every step count of the preset."),
    method: str = typer.Option("joint", help="joint, or a baseline: recon_only, per_view, classical."),
    prior: str = typer.Option("internal", help="internal (trained on this capture) or stable_diffusion."),
    prior_model: str | None = typer.Option(None, help="Stable Diffusion inpainting hub id or local folder."),
    prior_preset: str | None = typer.Option(None, help="InternalPrior size: tiny, quick or full (default: preset)."),
    prompt: str = typer.Option("", help="Text prompt for replacement (stable_diffusion only)."),
    negative_prompt: str = typer.Option("", help="Negative prompt (stable_diffusion only)."),
    guidance_scale: float = typer.Option(7.5, help="Classifier-free guidance scale (stable_diffusion)."),
    w_rgb: float = typer.Option(LossWeights().rgb, help="Weight of the reconstruction loss."),
    w_sds: float = typer.Option(LossWeights().sds, help="Weight of the SDS loss."),
    w_depth: float = typer.Option(LossWeights().depth, help="Weight of the hole depth loss."),
    w_freespace: float = typer.Option(LossWeights().freespace, help="Weight of the hole free-space loss."),
    w_opacity: float = typer.Option(LossWeights().opacity, help="Weight of the hole opacity loss."),
    depth_supervision: bool = typer.Option(True, help="Fill and supervise the hole's depth."),
    sds_region: str = typer.Option(
        "unobserved", help="SDS paints hole pixels no other view observes (unobserved) or the whole mask (mask)."
    ),
    rays_per_batch: int | None = typer.Option(None, help="Rays per step (lower it when out of GPU memory)."),
    sampler: str | None = typer.Option(None, help="Ray sampler: auto, stratified or occupancy (default: preset)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    seed: int = typer.Option(0, help="Seed of initialisation, ray sampling and the prior."),
    task: str = typer.Option("removal", help="Edit: removal, completion, replacement (with --prompt) or expansion."),
    expand_cameras: str = typer.Option("both", help="Expansion: virtual cameras wider, extend or both."),
    fov_factor: float = typer.Option(1.5, help="Expansion: wider views' image side x this (same focal length)."),
    extend_views: int = typer.Option(2, help="Expansion: virtual cameras added past each end of the path."),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
) -> None:
    """Fill the masked region in 3D: one NeRF, reconstruction outside the masks, SDS + depth inside."""
    config = _config(
        preset=preset,
        steps_scale=steps_scale,
        method=method,
        prior=prior,
        prior_model=prior_model,
        prior_preset=prior_preset,
        prompt=prompt,
        negative_prompt=negative_prompt,
        guidance_scale=guidance_scale,
        weights={"rgb": w_rgb, "sds": w_sds, "depth": w_depth, "freespace": w_freespace, "opacity": w_opacity},
        depth_supervision=depth_supervision,
        sds_region=sds_region,
        rays_per_batch=rays_per_batch,
        sampler=sampler,
        device=device,
        seed=seed,
        task=task,
        expansion={"cameras": expand_cameras, "fov_factor": fov_factor, "extend_views": extend_views},
    )
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


def _config(**options) -> inpaint_stage.Config:
    """Options as a typed stage config; an invalid choice is a usage error naming the option."""
    return stage_config("inpaint", inpaint_stage.Config, _option_name, **options)


def _option_name(loc: tuple) -> str:
    """The CLI option behind a config field (loss weights are the flat --w-* options)."""
    if loc and loc[0] == "weights" and len(loc) > 1:
        return f"--w-{loc[1]}"
    if loc and loc[0] == "expansion" and len(loc) > 1:
        return {"cameras": "--expand-cameras"}.get(str(loc[1]), "--" + str(loc[1]).replace("_", "-"))
    return option_name(loc)

"""`inpaint3d inpaint STORE`: optimise the NeRF with reconstruction + SDS (or run a baseline method)."""

from __future__ import annotations

import typer

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import Option, OptionTable, stage_config, with_options
from flows.interrupts import report_interrupt
from stages.configs.inpaint import Config

# The prior's and the expansion's options, shared with `inpaint3d run`.
PRIOR_OPTIONS = (
    Option("prior.kind", ("--prior",)),
    Option("prior.model", ("--prior-model",)),
    Option("prior.prompt", ("--text-prompt", "--prompt")),
    Option("prior.negative_prompt"),
    Option("prior.guidance_scale"),
)
EXPANSION_OPTIONS = (
    Option("expansion.cameras", ("--expand-cameras",)),
    Option("expansion.fov_factor"),
    Option("expansion.extend_views"),
)
OPTIONS = OptionTable(
    "inpaint",
    Config,
    (
        Option("preset"),
        Option("steps_scale"),
        Option("method"),
        *PRIOR_OPTIONS,
        Option("prior.internal_preset", ("--prior-preset",)),
        *(Option(f"weights.{term}", (f"--w-{term}",)) for term in ("rgb", "sds", "depth", "freespace", "opacity")),
        Option("depth_supervision"),
        Option("sds_region"),
        Option("rays_per_batch"),
        Option("sampler"),
        Option("device"),
        Option("seed"),
        Option("task"),
        *EXPANSION_OPTIONS,
    ),
)


@with_options(OPTIONS)
def inpaint(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after ingest, poses and masks)."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of the inpaint config, FIELD=VALUE (e.g. weights.sds=0.1, sds.t_min=0.05)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
    *,
    options: dict,
) -> None:
    """Fill the masked region in 3D: one NeRF, reconstruction outside the masks, SDS + depth inside."""
    config = stage_config(OPTIONS, options["inpaint"], overrides)
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

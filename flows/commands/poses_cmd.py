"""`inpaint3d poses STORE`: estimate camera poses with COLMAP, or import the capture's pose file."""

from __future__ import annotations

import typer

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import Option, OptionTable, stage_config, with_options
from stages.configs.poses import Config

OPTIONS = OptionTable(
    "poses",
    Config,
    tuple(
        Option(name)
        for name in (
            "source",
            "matcher",
            "mapper",
            "camera_model",
            "intrinsics",
            "focal_px",
            "sfm_max_side",
            "vocab_tree",
            "sequential_quadratic",
            "min_registered_fraction",
        )
    ),
)


@with_options(OPTIONS)
def poses(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after `inpaint3d ingest`)."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of this stage's config, FIELD=VALUE (YAML value; repeatable)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
    *,
    options: dict,
) -> None:
    """Calibrated, normalised cameras and sparse points for every ingested view."""
    config = stage_config(OPTIONS, options["poses"], overrides)
    from stages import poses as poses_stage

    result = poses_stage.run(open_existing_store(store), config, force=force)
    summary = result.summary
    state = "up to date" if result.skipped else f"done in {result.seconds:.1f} s"
    typer.echo(
        f"poses {state} ({summary['method']}): {summary['registered']}/{summary['views']} views registered, "
        f"{summary['points']} points"
    )
    if summary["unregistered"]:
        typer.echo("without poses: " + ", ".join(summary["unregistered"]))

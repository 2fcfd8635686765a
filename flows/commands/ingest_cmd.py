"""`inpaint3d ingest CAPTURE --store STORE`: photos, a video or a posed capture folder into a store."""

from __future__ import annotations

import typer

from flows.commands.options import Option, OptionTable, field_help, stage_config, with_options
from stages.configs.ingest import Config

OPTIONS = OptionTable(
    "ingest",
    Config,
    (
        Option("layout"),
        Option("max_side"),
        Option("apply_exif", ("--exif/--no-exif",)),
        Option("llff_factor"),
        Option("video_frames"),
        Option("min_views"),
        Option("protocol"),
        Option("n_gt"),
    ),
)


@with_options(OPTIONS)
def ingest(
    capture: str = typer.Argument(..., help=field_help(Config, "capture")),
    store: str = typer.Option(..., "--store", help="Scene store path or fsspec URL (created if missing)."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of this stage's config, FIELD=VALUE (YAML value; repeatable)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
    *,
    options: dict,
) -> None:
    """Decode, orient and (optionally) downscale a capture; unreadable files are skipped and listed."""
    config = stage_config(OPTIONS, {**options["ingest"], "capture": capture}, overrides)
    from inpaint3d_core.store import SceneStore
    from stages import ingest as ingest_stage

    result = ingest_stage.run(SceneStore(store), config, force=force)
    summary = result.summary
    state = "up to date" if result.skipped else f"done in {result.seconds:.1f} s"
    typer.echo(
        f"ingest {state}: {summary['views']} views ({summary['layout']}), {summary['skipped']} file(s) skipped, "
        f"pose files: {', '.join(summary['pose_sources']) or 'none'}"
    )

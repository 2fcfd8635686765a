"""`inpaint3d poses STORE`: estimate camera poses with COLMAP, or import the capture's pose file."""

from __future__ import annotations

import typer

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import stage_config, with_overrides


def poses(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after `inpaint3d ingest`)."),
    source: str = typer.Option("auto", help="auto, estimate, colmap, transforms or llff."),
    matcher: str = typer.Option("auto", help="auto, exhaustive, sequential or spatial."),
    mapper: str = typer.Option("incremental", help="incremental or global."),
    camera_model: str = typer.Option("SIMPLE_RADIAL", help="SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV."),
    intrinsics: str = typer.Option("auto", help="auto, single (shared) or per_image."),
    focal_px: float | None = typer.Option(None, help="Known focal length in pixels of the ingested images."),
    sfm_max_side: int | None = typer.Option(1600, help="COLMAP works on copies with this longer side."),
    vocab_tree: str | None = typer.Option(None, help="COLMAP vocabulary tree file (loop detection)."),
    sequential_quadratic: str = typer.Option(
        "auto", help="Sequential matching also pairs views 2^k apart: auto (only if needed), on or off."
    ),
    min_registered_fraction: float = typer.Option(0.5, help="Fail when fewer views than this fraction register."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of this stage's config, FIELD=VALUE (YAML value; repeatable)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
) -> None:
    """Calibrated, normalised cameras and sparse points for every ingested view."""
    config = _config(
        overrides,
        source=source,
        matcher=matcher,
        mapper=mapper,
        camera_model=camera_model,
        intrinsics=intrinsics,
        focal_px=focal_px,
        sfm_max_side=sfm_max_side,
        vocab_tree=vocab_tree,
        sequential_quadratic=sequential_quadratic,
        min_registered_fraction=min_registered_fraction,
    )
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


def _config(overrides: list[str], **options):
    """Options (and `--set` items) as a typed stage config; an invalid choice is a usage error naming the option."""
    from stages import poses as poses_stage

    return stage_config("poses", poses_stage.Config, **with_overrides("poses", options, overrides))

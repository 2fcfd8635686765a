"""`inpaint3d ingest CAPTURE --store STORE`: photos, a video or a posed capture folder into a store."""

from __future__ import annotations

import typer

from flows.commands.options import stage_config, with_overrides


def ingest(
    capture: str = typer.Argument(..., help="Folder of photos (or LLFF/SPIn-NeRF/synthetic capture), or a video."),
    store: str = typer.Option(..., "--store", help="Scene store path or fsspec URL (created if missing)."),
    layout: str = typer.Option("auto", help="auto, images, video, synthetic or llff."),
    max_side: int | None = typer.Option(None, help="Downscale so the longer side is at most this (pixels)."),
    exif: bool = typer.Option(True, "--exif/--no-exif", help="Apply EXIF orientation (turn photos upright)."),
    llff_factor: int | None = typer.Option(None, help="LLFF: use images_N/ with this N (default smallest)."),
    video_frames: int = typer.Option(60, help="Video: about this many frames (sharpest per window)."),
    min_views: int = typer.Option(3, help="Fewer usable views than this is an error."),
    protocol: str = typer.Option("none", help="none, or spinnerf (first --n-gt images are test views)."),
    n_gt: int = typer.Option(40, help="SPIn-NeRF protocol: number of test views."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of this stage's config, FIELD=VALUE (YAML value; repeatable)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
) -> None:
    """Decode, orient and (optionally) downscale a capture; unreadable files are skipped and listed."""
    config = _config(
        overrides,
        capture=capture,
        layout=layout,
        max_side=max_side,
        apply_exif=exif,
        llff_factor=llff_factor,
        video_frames=video_frames,
        min_views=min_views,
        protocol=protocol,
        n_gt=n_gt,
    )
    from inpaint3d_core.store import SceneStore
    from stages import ingest as ingest_stage

    result = ingest_stage.run(SceneStore(store), config, force=force)
    summary = result.summary
    state = "up to date" if result.skipped else f"done in {result.seconds:.1f} s"
    typer.echo(
        f"ingest {state}: {summary['views']} views ({summary['layout']}), {summary['skipped']} file(s) skipped, "
        f"pose files: {', '.join(summary['pose_sources']) or 'none'}"
    )


def _config(overrides: list[str], **options):
    """Options (and `--set` items) as a typed stage config; an invalid choice is a usage error naming the option."""
    from stages import ingest as ingest_stage

    return stage_config("ingest", ingest_stage.Config, **with_overrides("ingest", options, overrides))

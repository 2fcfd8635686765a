"""`inpaint3d render STORE`: videos and input-view renders of the inpainted field; render exporters."""

from __future__ import annotations

import typer

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import Option, OptionTable, stage_config, with_options
from stages.configs.render import Config

OPTIONS = OptionTable(
    "render",
    Config,
    (
        Option("path"),
        Option("n_frames", ("--frames",)),
        Option("fps"),
        Option("width"),
        Option("compare"),
        Option("keep_frames"),
        Option("device"),
    ),
)


@with_options(OPTIONS)
def render(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after `inpaint3d inpaint`)."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of the render config, FIELD=VALUE (YAML value; repeatable)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
    *,
    options: dict,
) -> None:
    """Render the inpainted scene at the input cameras and along a smooth camera path."""
    config = stage_config(OPTIONS, options["render"], overrides)
    from stages import render as render_stage

    result = render_stage.run(open_existing_store(store), config, force=force)
    s = result.summary
    state = "up to date" if result.skipped else f"done in {result.seconds:.1f} s"
    typer.echo(
        f"render {state}: {s['views']} views, {s['frames']} path frames at {s['size']}, "
        f"videos {', '.join(s['videos'])} (compare: {s['compare']}); "
        f"write them out with `inpaint3d export {store} --format video --out DIR`"
    )

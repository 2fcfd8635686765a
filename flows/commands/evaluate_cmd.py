"""`inpaint3d evaluate STORE`: score the renders, print the metrics table, write the report out."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import Option, OptionTable, stage_config, with_options
from inpaint3d_core.io.export import export_report
from stages.configs.evaluate import Config

OPTIONS = OptionTable(
    "evaluate", Config, (Option("scored_views"), Option("neighbours"), Option("lpips"), Option("lpips_net"))
)


@with_options(OPTIONS)
def evaluate(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after `inpaint3d render`)."),
    report_out: Path | None = typer.Option(
        None, "--report-out", help="Folder to write report.html, metrics.json and the plots into."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON instead of a table."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of the evaluate config, FIELD=VALUE (YAML value; repeatable)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
    *,
    options: dict,
) -> None:
    """Metrics against ground truth (full image, mask bounding box), multi-view consistency, report."""
    config = stage_config(OPTIONS, options["evaluate"], overrides)
    from inpaint3d_core.scene import read_metrics
    from stages import evaluate as evaluate_stage

    scene = open_existing_store(store)
    evaluate_stage.run(scene, config, force=force)
    metrics = read_metrics(scene)
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
    else:
        print_metrics(metrics, title=f"{store} ({metrics['method']})")
    if report_out is not None:
        written = export_report(scene, report_out)
        typer.echo(f"report: {written / 'report.html'}")


def print_metrics(metrics: dict, title: str) -> None:
    """The headline table (mean over the scored views) and the notes, with rich."""
    from rich.console import Console
    from rich.table import Table

    from inpaint3d_core.report import metrics_rows

    table = Table(title=title)
    for col in ("region", "metric", "mean"):
        table.add_column(col, justify="right" if col == "mean" else "left")
    for region, name, value in metrics_rows(metrics["mean"], metrics["consistency"]):
        table.add_row(region, name, "n/a" if value is None else f"{value:.4f}")
    console = Console()
    console.print(table)
    if metrics["per_view"]:
        console.print(
            f"views scored against ground truth: {len(metrics['per_view'])} ({metrics['scored_views']} views)"
        )
    for note in metrics["notes"]:
        console.print(f"note: {note}", style="yellow")

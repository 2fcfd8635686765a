"""`inpaint3d export STORE --format F --out PATH`: hand stored results to other tools."""

from __future__ import annotations

from pathlib import Path

import typer

from flows.commands.inspect_cmd import open_existing_store
from inpaint3d_core.io.export import EXPORTERS, ExportFormat


def export(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL."),
    fmt: ExportFormat = typer.Option(..., "--format", help="What to export."),
    out: Path = typer.Option(..., "--out", help="Output file or folder."),
) -> None:
    """Export stored results (cameras, masks, renders) for other tools."""
    written = EXPORTERS[fmt](open_existing_store(store), out)
    typer.echo(f"wrote {written}")

"""`inpaint3d inspect STORE`: what each stage holds, whether it is current, and its numbers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from inpaint3d_core.store import SceneStore


def describe_store(store: SceneStore) -> dict:
    """One record per pipeline stage: status, fingerprint, config, timings, summary."""
    from inpaint3d_core.stage import stage_status
    from stages.pipeline import PIPELINE

    stages = {}
    for module in PIPELINE:
        spec = module.SPEC
        record = store.record(spec.name)
        damage = store.damage(spec.name)
        stages[spec.name] = {
            "complete": record is not None and not damage,
            "status": stage_status(store, spec),
            "damage": damage,
            "fingerprint": record.fingerprint if record else None,
            "config": record.config if record else None,
            "timings": record.timings if record else None,
            "summary": record.summary if record else None,
            "finished_at": record.finished_at if record else None,
        }
    return {"store": store.url, "stages": stages}


def inspect(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Describe every stage of a scene store."""
    from rich.console import Console
    from rich.table import Table

    from inpaint3d_core.store import damage_message

    info = describe_store(open_existing_store(store))
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    table = Table(title=f"scene store {info['store']}")
    for col in ("stage", "status", "fingerprint", "seconds", "summary"):
        table.add_column(col)
    for name, rec in info["stages"].items():
        seconds = f"{rec['timings']['total_s']:.1f}" if rec["timings"] else ""
        summary = ", ".join(f"{k}={_short(v)}" for k, v in (rec["summary"] or {}).items())
        table.add_row(name, rec["status"], rec["fingerprint"] or "", seconds, summary)
    Console().print(table)
    for name, rec in info["stages"].items():
        if rec["damage"]:
            typer.secho(damage_message(info["store"], name, rec["damage"]), err=True, fg="yellow")


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def open_existing_store(url: str) -> SceneStore:
    """Open a store that must already exist (inspect/export must not create empty stores)."""
    import fsspec

    from inpaint3d_core.errors import InputError
    from inpaint3d_core.store import SceneStore

    fs, path = fsspec.core.url_to_fs(url)
    if not fs.exists(f"{path.rstrip('/')}/zarr.json"):
        raise InputError(f"{url}: no scene store there (expected a zarr group with zarr.json); check the path")
    return SceneStore(url)

"""`inpaint3d batch INBOX --outbox DIR`: every capture folder of an inbox that is not done yet.

Calls `flows.batch_flow.inpaint_batch`, the function the `nightly-batch` deployment of
prefect.yaml runs, so the command line and the scheduled batch behave the same (done markers,
error files, a changed job file reruns its capture). Prefect is imported only when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from flows.batch_options import BatchOptions
from flows.commands.options import Option, OptionTable, parse_overrides, with_options
from flows.settings import drop_empty_api_url, local_prefect_settings


def run_batch(inbox: str, outbox: str, job: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """The batch flow from this process with the local Prefect defaults (as `inpaint3d run` does)."""
    drop_empty_api_url()
    from flows.batch_flow import inpaint_batch

    with local_prefect_settings():
        return inpaint_batch(inbox=inbox, outbox=outbox, job=job, **options)


OPTIONS = OptionTable(
    "batch",
    BatchOptions,
    (Option("dispatch"), Option("deployment"), Option("retries"), Option("retry_delay_s", ("--retry-delay",))),
)


@with_options(OPTIONS)
def batch(
    inbox: str = typer.Argument(..., help="Folder (or fsspec URL) with one capture folder per capture."),
    outbox: str = typer.Option(..., "--outbox", help="Where stores, done markers and error files go."),
    job: Path | None = typer.Option(
        None, "--job", help="Job file with defaults for every capture (a capture's own job.yaml wins)."
    ),
    preset: str | None = typer.Option(None, "--preset", help="Preset for every stage that has one (quick, full)."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any stage option STAGE.FIELD=VALUE for every capture (repeatable)."
    ),
    pipeline: list[str] = typer.Option(
        [], "--pipeline", help="Advanced: stage modules to run, in order (default: the full pipeline)."
    ),
    *,
    options: dict,
) -> None:
    """Process every capture in INBOX not done yet; one failing capture never stops the others.

    Exit code 1 when any capture failed (its `<name>.error.txt` in the outbox says why).
    """
    from flows.job import load_job_file, merge_job_values

    settings = BatchOptions(**options["batch"])  # each given value was checked by its field (exit 2 naming it)
    defaults = merge_job_values(
        load_job_file(str(job)) if job else None, {"preset": preset}, parse_overrides(overrides)
    )
    result = run_batch(
        inbox,
        outbox,
        job=defaults or None,
        pipeline=pipeline or None,
        **settings.model_dump(),
    )
    print_batch(result, outbox)
    if result["failed"]:
        raise typer.Exit(1)


def print_batch(result: dict[str, Any], outbox: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"batch -> {outbox}")
    for column in ("capture", "outcome", "detail"):
        table.add_column(column)
    for name in result["completed"]:
        table.add_row(name, "completed", f"{outbox.rstrip('/')}/{name}.zarr")
    for name in result["skipped"]:
        table.add_row(name, "already done", f"{outbox.rstrip('/')}/{name}.zarr")
    for name, message in result["failed"].items():
        table.add_row(name, "failed", message.splitlines()[0] if message else "")
    Console().print(table)

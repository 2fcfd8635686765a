"""The `inpaint3d` command line.

Exit codes: 0 success, 2 bad input or usage (the message names the file or option), 1 anything
else. Stage commands run the stage directly (no Prefect); `run`, `demo` and `batch` go through the flow.
"""

from __future__ import annotations

import sys

import typer

# Every command module imports only typer and the standard library at module level; torch,
# diffusers, Prefect, OpenCV and zarr are imported inside the command that needs them, so
# `--help` and argument errors answer at once (tests/flows/test_cli_startup.py keeps it so).
from flows.commands import (
    batch_cmd,
    evaluate_cmd,
    export_cmd,
    ingest_cmd,
    inpaint_cmd,
    inspect_cmd,
    masks_cmd,
    poses_cmd,
    render_cmd,
    report_cmd,
    run_cmd,
)
from inpaint3d_core.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

# --- commands, wired explicitly (one module per command group) ---
app.command("inspect")(inspect_cmd.inspect)
app.command("export")(export_cmd.export)
app.command("ingest")(ingest_cmd.ingest)
app.command("poses")(poses_cmd.poses)
app.command("inpaint")(inpaint_cmd.inpaint)
app.command("masks")(masks_cmd.masks)
app.command("render")(render_cmd.render)
app.command("evaluate")(evaluate_cmd.evaluate)
app.command("run")(run_cmd.run)
app.command("demo")(run_cmd.demo)
app.command("batch")(batch_cmd.batch)
app.command("report")(report_cmd.report)


def main() -> None:
    """Entry point: user-fixable errors become exit code 2 with a one-line message.

    Typer's standalone mode already turns usage errors into exit code 2 and other exceptions
    into exit code 1; only our InputError needs translating.
    """
    try:
        app()
    except InputError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(2)


if __name__ == "__main__":
    main()

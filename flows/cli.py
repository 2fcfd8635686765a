"""The `inpaint3d` command line.

Exit codes: 0 success, 2 bad input or usage (the message names the file or option), 1 anything
else. Stage commands run the stage directly (no Prefect); `run` and `demo` go through the flow.
"""

from __future__ import annotations

import sys

import typer

from flows.commands import export_cmd, inspect_cmd
from inpaint3d_core.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

# --- commands, wired explicitly (one module per command group) ---
app.command("inspect")(inspect_cmd.inspect)
app.command("export")(export_cmd.export)


def main() -> None:
    """Entry point: user-fixable errors become exit code 2 with a one-line message."""
    try:
        app(standalone_mode=False)
    except InputError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors carry their own exit code (2)
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise

"""Ctrl-C (SIGINT) on a long command: say what is safe in the store and how to carry on.

Why: an interrupted run loses nothing (finished stages are committed, the running stage's
temporary group is dropped, its checkpoints stay in `_work/<stage>`), but a bare "Aborted!" says
none of that, so users rerun with `--force` or delete the store. Exit code 130 is the shell's
convention for "ended by SIGINT".
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Iterator

import typer

INTERRUPTED_EXIT_CODE = 130


def saved_state(store_url: str) -> str:
    """One sentence: the complete stages in the store and the stages with checkpoints."""
    import fsspec

    from inpaint3d_core.store import WORK_GROUP, ZARR_JSON, SceneStore

    fs, path = fsspec.core.url_to_fs(store_url)
    if not fs.exists(f"{path.rstrip('/')}/{ZARR_JSON}"):
        return f"nothing was saved yet in {store_url}"
    store = SceneStore(store_url)
    complete = store.stages()
    work = store.root[WORK_GROUP] if WORK_GROUP in set(store.root.group_keys()) else None
    checkpoints = sorted(work.group_keys()) if work is not None else []
    parts = [f"complete stages in {store_url}: {', '.join(complete) or 'none'}"]
    if checkpoints:
        parts.append(f"checkpoints kept for: {', '.join(checkpoints)}")
    return "; ".join(parts)


@contextlib.contextmanager
def report_interrupt(store_url: str) -> Iterator[None]:
    """Turn KeyboardInterrupt into one message (what was saved, the command that resumes) + exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        try:
            state = saved_state(store_url)
        except Exception as exc:  # the store itself may be what is broken; still say how to resume
            state = f"the store {store_url} could not be read ({exc})"
        command = shlex.join(["inpaint3d", *sys.argv[1:]])
        typer.secho(
            f"interrupted: {state}. Run the same command again to resume ({command}): "
            "complete stages are reused, an interrupted stage with checkpoints continues from them.",
            err=True,
            fg="yellow",
        )
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None

"""How long the `inpaint3d` CLI takes to start: `--help`, a command's `--help`, and stage
commands' own start-up (cached `ingest` and `poses`: each imports its stage, fingerprints its
inputs, finds the stored result current and exits without recomputing).

Each command runs `--repeat` times in a fresh process (no warm module cache inside Python; the
OS file cache is warm after the first run, which is also what a user sees). The machine's load
average is printed beside the times, because on a shared machine it dominates them. No test
times anything (tests/flows/test_cli_startup.py checks which modules load instead).

    .venv/bin/python benchmarks/cli_startup.py [--repeat 5]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typer

app = typer.Typer(add_completion=False)


def _cli() -> list[str]:
    """The installed entry point beside this interpreter, else the module (same code either way)."""
    script = Path(sys.executable).with_name("inpaint3d")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _capture_with_cached_stages(folder: Path) -> tuple[Path, Path]:
    """A tiny synthetic capture and a store whose ingest and poses are already current for it."""
    from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_capture

    capture, store = folder / "capture", folder / "scene.zarr"
    write_capture(generate_scene(SyntheticConfig.preset("tiny")), capture)
    subprocess.run([*_cli(), "ingest", str(capture), "--store", str(store)], check=True, capture_output=True)
    subprocess.run([*_cli(), "poses", str(store)], check=True, capture_output=True)
    return capture, store


@app.command()
def main(repeat: int = typer.Option(5, min=1, help="Runs per command.")) -> None:
    cli = _cli()
    folder = Path(tempfile.mkdtemp(prefix="cli_startup_"))
    try:
        capture, store = _capture_with_cached_stages(folder)
        commands = {
            "inpaint3d --help": [*cli, "--help"],
            "inpaint3d inpaint --help": [*cli, "inpaint", "--help"],
            "inpaint3d ingest CAPTURE --store S (cached)": [*cli, "ingest", str(capture), "--store", str(store)],
            "inpaint3d poses S (cached)": [*cli, "poses", str(store)],
        }
        print("| command | median s | min s | max s | load average (1 min) | runs |\n|---|---|---|---|---|---|")
        for name, command in commands.items():
            times = [_seconds(command) for _ in range(repeat)]
            load = os.getloadavg()[0]
            print(
                f"| `{name}` | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | "
                f"{load:.1f} on {os.cpu_count()} cores | {repeat} |"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    app()

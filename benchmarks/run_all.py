"""`make bench`: every benchmark that runs on a CPU, at its quick size, one after another; each
prints its own table, and a last table says which ran, how long they took and which failed.

The GPU benchmarks (e2e_gpu, field_speed, sds_floor, joint_gpu) time real-size work on CUDA and
only say "skipped" on a CPU; run them one by one on a GPU machine (README, "Benchmarks").
poses_real needs the real captures beside the checkout and takes minutes per capture on a CPU:
`--with-real` adds it (and the real captures of masks_iou).

    .venv/bin/python benchmarks/run_all.py [--only masks_iou] [--with-real]

Exit code 1 when any benchmark failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent


def quick_runs(out: Path, with_real: bool) -> dict[str, list[str]]:
    """Benchmark script -> its arguments at the quick (CPU, minutes) size."""
    runs = {
        "masks_iou": ["--preset", "tiny", "--seeds", "0", "--real" if with_real else "--no-real"],
        "tasks_gpu": ["--preset", "quick", "--tasks", "removal", "expansion", "--steps-scale", "0.1"],
        "quality": ["--preset", "quick", "--seeds", "0", "--methods", "recon_only", "classical"],
    }
    for name in ("tasks_gpu", "quality"):
        runs[name] += ["--out", str(out / name)]
    if with_real:
        runs["poses_real"] = []
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", help="run only these benchmarks (script names without .py)")
    parser.add_argument("--with-real", action="store_true", help="also the real captures (poses_real, masks_iou)")
    args = parser.parse_args(argv)
    console = Console()
    summary = Table(title="make bench")
    for column in ("benchmark", "arguments", "seconds", "outcome"):
        summary.add_column(column)
    failed = False
    with tempfile.TemporaryDirectory(prefix="inpaint3d_bench_") as tmp:
        runs = quick_runs(Path(tmp), args.with_real)
        unknown = sorted(set(args.only or ()) - set(runs))
        if unknown:
            parser.error(f"--only {' '.join(unknown)}: choose from {', '.join(runs)}")
        for name, arguments in runs.items():
            if args.only and name not in args.only:
                continue
            console.rule(f"{name} {' '.join(arguments)}")
            start = time.perf_counter()
            code = subprocess.call([sys.executable, str(HERE / f"{name}.py"), *arguments])
            failed |= code != 0
            outcome = "ok" if code == 0 else f"failed (exit code {code})"
            summary.add_row(name, " ".join(arguments), f"{time.perf_counter() - start:.0f}", outcome)
    console.print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Object-removal quality on synthetic scenes: joint SDS vs the baselines, one table.

For each seed a synthetic scene is generated (exact object-free ground truth for every view),
written to one store per method (ingest/poses/masks straight from the generator, no COLMAP),
then the inpaint stage runs with each method, followed by render and evaluate. The table shows,
per method, the mean (and spread over seeds) of: PSNR over the mask's pixels, SSIM and PSNR over
the mask's bounding box, full-image PSNR, and the multi-view consistency error of the generated
region (lower = more consistent), plus the inpaint stage's seconds.

    .venv/bin/python benchmarks/quality.py --preset quick           # CPU, tiny scenes, minutes
    .venv/bin/python benchmarks/quality.py --preset full --seeds 0 1 2   # one CUDA GPU

`--set key=value` (repeatable, value parsed as JSON when it can be) overrides fields of the
inpaint stage's Config for every method, e.g. `--set prior='"internal"'`.

`--jobs N` runs N (seed, method) pairs at once, each in its own process: one run of the joint
stage leaves most of a large GPU idle (small kernels, host-side sampling), so several runs
share it well. Every finished run is written to `OUT/seed{S}/{method}.json` at once, so a run
cut short keeps what it finished, and `--table-from DIR` rebuilds the table from such files
(e.g. seeds run as separate GPU commands).
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import shutil
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

METHODS = ("joint", "per_view", "recon_only", "classical")
# (column title, path into the evaluate stage's metrics, higher is better)
COLUMNS = (
    ("masked PSNR", ("mean", "masked", "psnr"), True),
    ("bbox PSNR", ("mean", "bbox", "psnr"), True),
    ("bbox SSIM", ("mean", "bbox", "ssim"), True),
    ("full PSNR", ("mean", "full", "psnr"), True),
    ("consistency L1", ("consistency", "photometric_l1"), False),
    ("inpaint s", ("seconds",), False),
)
# the quick internal prior needs 32 px crops clear of the hole
SCENE_PRESET = {"quick": "quick", "full": "full", "thorough": "full"}
RENDER_FRAMES = 2  # the table needs the input-view renders only; a token path keeps render cheap


def _lookup(record: dict, path: tuple[str, ...]) -> float | None:
    value = record
    for key in path:
        if not isinstance(value, dict) or value.get(key) is None:
            return None
        value = value[key]
    return float(value)


def build_table(results: list[dict]) -> str:
    """Markdown table: one row per method, mean +- standard deviation over seeds of each column.

    `results` holds one record per (method, seed): {"method", "seed", "seconds", **evaluate
    metrics}; the best mean of each quality column is marked with *.
    """
    methods = list(dict.fromkeys(r["method"] for r in results))
    cells: dict[tuple[str, str], tuple[float, float, int] | None] = {}
    for method in methods:
        runs = [r for r in results if r["method"] == method]
        for title, path, _ in COLUMNS:
            values = [v for v in (_lookup(r, path) for r in runs) if v is not None]
            cells[method, title] = (
                (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0, len(values))
                if values
                else None
            )
    best = {}
    for title, _, higher in COLUMNS[:-1]:
        means = {m: cells[m, title][0] for m in methods if cells[m, title] is not None}
        if means:
            best[title] = (max if higher else min)(means, key=means.get)
    seeds = sorted({r["seed"] for r in results})
    header = "| method | " + " | ".join(t + (" (lower better)" if not h else "") for t, _, h in COLUMNS) + " |"
    lines = [f"seeds: {seeds}", header, "|" + "---|" * (len(COLUMNS) + 1)]
    for method in methods:
        row = [method]
        for title, _, _ in COLUMNS:
            cell = cells[method, title]
            if cell is None:
                row.append("n/a")
                continue
            mean, std, _n = cell
            digits = 4 if abs(mean) < 1 else 2
            mark = "*" if best.get(title) == method else ""
            row.append(f"{mean:.{digits}f} ± {std:.{digits}f}{mark}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def run_one(scene, method: str, preset: str, store_path: Path, overrides: dict) -> dict:
    """Inpaint + render + evaluate one method on one scene; the evaluate metrics plus seconds."""
    from inpaint3d_core.store import SceneStore
    from inpaint3d_core.synthetic import write_store
    from stages import evaluate, inpaint, render

    if store_path.exists():
        shutil.rmtree(store_path)
    store = SceneStore(store_path)
    write_store(scene, store)
    result = inpaint.run(store, inpaint.Config(**{"method": method, "preset": preset, **overrides}))
    render.run(store, render.Config(n_frames=RENDER_FRAMES, compare="none", keep_frames=False))
    evaluate.run(store, evaluate.Config(scored_views="all", stills=0))
    return {**evaluate.read_metrics(store), "seconds": result.seconds}


@functools.lru_cache(maxsize=1)
def _scene(seed: int, preset: str):
    """The seed's synthetic scene, generated once per process (a sequential run reuses it for every method)."""
    from inpaint3d_core.synthetic import SyntheticConfig, generate_scene

    return generate_scene(SyntheticConfig.preset(SCENE_PRESET[preset], seed=seed))


def run_job(seed: int, method: str, preset: str, out: Path, overrides: dict) -> dict:
    """One (seed, method) run from scratch, its record also written to OUT/seed{S}/{method}.json."""
    scene = _scene(seed, preset)
    print(f"seed {seed} / {method} ...", flush=True)
    record = {
        "method": method,
        "seed": seed,
        **run_one(scene, method, preset, out / f"seed{seed}" / f"{method}.zarr", overrides),
    }
    (out / f"seed{seed}" / f"{method}.json").write_text(json.dumps(record, indent=2))
    print(f"seed {seed} / {method} done in {record['seconds']:.0f} s", flush=True)
    return record


def read_records(folder: Path) -> list[dict]:
    """Every run record under `folder` (OUT/seed*/METHOD.json), in seed then method order."""
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("seed*/*.json"))]
    if not records:
        raise SystemExit(f"--table-from {folder}: no seed*/<method>.json run records there")
    order = {m: i for i, m in enumerate(METHODS)}
    return sorted(records, key=lambda r: (order.get(r["method"], len(order)), r["seed"]))


def run_all(jobs: list[tuple[int, str]], preset: str, out: Path, overrides: dict, workers: int) -> list[dict]:
    if workers <= 1:
        return [run_job(seed, method, preset, out, overrides) for seed, method in jobs]
    # spawn: a forked child cannot initialise CUDA after the parent touched it
    context = multiprocessing.get_context("spawn")
    results = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run_job, seed, method, preset, out, overrides): (seed, method) for seed, method in jobs}
        for future in as_completed(futures):
            try:
                results.append(future.result())
            except Exception as error:  # one failed run must not lose the others' results
                print(f"seed {futures[future][0]} / {futures[future][1]} failed: {error!r}", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(SCENE_PRESET), default="quick")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--out", type=Path, default=REPO / "outputs" / "bench_quality")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="inpaint Config key=value")
    parser.add_argument("--jobs", type=int, default=1, help="(seed, method) runs at once, one process each")
    parser.add_argument("--table-from", type=Path, help="only print the table of the run records in this folder")
    args = parser.parse_args(argv)

    if args.table_from is not None:
        print(build_table(read_records(args.table_from)))
        return
    overrides = _parse_overrides(args.overrides)
    started = time.perf_counter()
    jobs = [(seed, method) for seed in args.seeds for method in args.methods]
    results = run_all(jobs, args.preset, args.out, overrides, args.jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print()
    print(f"object removal on synthetic scenes, preset {args.preset} ({time.perf_counter() - started:.0f} s total)")
    print(build_table(read_records(args.out)))


if __name__ == "__main__":
    main()

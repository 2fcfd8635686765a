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
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
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
SCENE_PRESET = {"quick": "quick", "full": "full"}  # the quick internal prior needs 32 px crops clear of the hole
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(SCENE_PRESET), default="quick")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--out", type=Path, default=REPO / "outputs" / "bench_quality")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="inpaint Config key=value")
    args = parser.parse_args(argv)

    from inpaint3d_core.synthetic import SyntheticConfig, generate_scene

    overrides = _parse_overrides(args.overrides)
    results = []
    started = time.perf_counter()
    for seed in args.seeds:
        scene = generate_scene(SyntheticConfig.preset(SCENE_PRESET[args.preset], seed=seed))
        for method in args.methods:
            print(f"seed {seed} / {method} ...", flush=True)
            record = run_one(scene, method, args.preset, args.out / f"seed{seed}" / f"{method}.zarr", overrides)
            results.append({"method": method, "seed": seed, **record})
    (args.out / "results.json").parent.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print()
    print(f"object removal on synthetic scenes, preset {args.preset} ({time.perf_counter() - started:.0f} s total)")
    print(build_table(results))


if __name__ == "__main__":
    main()

"""Object-removal quality on the SPIn-NeRF-shaped synthetic benchmark: every method, one table.

For each seed a SPIn-NeRF-shaped capture is written (`inpaint3d_core.synthetic.spinnerf`:
forward-facing views of a box on a table, 40% of the views object-free test views with exact
ground truth, and for each test mask the part no training view saw). The shared stages (ingest
with the SPIn-NeRF protocol, poses imported from poses_bounds.npy, masks imported from label/)
run once per seed into a base store, through the job the CLI builds; each method then runs
inpaint + render + evaluate on its own copy. The table shows per method the mean (and spread
over seeds) of the SPIn-NeRF protocol's scores on the test views: PSNR and SSIM in the mask's
bounding box, masked PSNR, the masked PSNR of the part of the mask some training view saw and
of the part none saw (what had to be generated), LPIPS when its weights are on disk, and the
multi-view consistency of the filled region, plus where each run's time went.

Methods (`METHODS`): joint (the default: SDS on the unobserved part of the hole + depth),
joint_whole_mask (the paper's SDS over the whole mask), joint_no_depth (no depth terms),
joint_unobserved_terms (depth, free-space and opacity terms only where no other view observes),
recon_only, per_view (the prior inpaints each view, a NeRF is fit to them), classical (OpenCV).

    .venv/bin/python benchmarks/quality.py --preset quick --seeds 0             # CPU size, 2 cores: minutes per method
    python benchmarks/quality.py --preset full --seeds 0 1 2 --jobs 4        # one CUDA GPU, 1008x567

`--set STAGE.FIELD=VALUE` (repeatable, the CLI's syntax) changes the job for every method, e.g.
`--set inpaint.steps_scale=0.5`. `--jobs N` runs N methods at once, each in its own process
(one joint run leaves most of a large GPU idle). Every finished run is written to
`OUT/seed{S}/{method}.json` at once, so a run cut short keeps what it finished, and
`--table-from DIR` rebuilds the table from such files. `--pictures` writes, for the first seed,
one test view's ground truth beside every method's render (`OUT/seed{S}/pictures.png`).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# method name -> its inpaint stage options
METHODS: dict[str, dict] = {
    "joint": {"method": "joint"},
    "joint_whole_mask": {"method": "joint", "sds_region": "mask"},
    "joint_no_depth": {"method": "joint", "depth_supervision": False},
    "joint_unobserved_terms": {"method": "joint", "hole_terms": "unobserved"},
    "recon_only": {"method": "recon_only"},
    "per_view": {"method": "per_view"},
    "classical": {"method": "classical"},
}
# (column title, path into a run record, higher is better)
COLUMNS = (
    ("bbox PSNR", ("mean", "bbox", "psnr"), True),
    ("bbox SSIM", ("mean", "bbox", "ssim"), True),
    ("masked PSNR", ("mean", "masked", "psnr"), True),
    ("seen PSNR", ("mean", "seen", "psnr"), True),
    ("unseen PSNR", ("mean", "unseen", "psnr"), True),
    ("bbox LPIPS", ("mean", "bbox", "lpips"), False),
    ("consistency L1", ("consistency", "photometric_l1"), False),
    ("inpaint s", ("seconds", "inpaint"), False),
)
QUALITY_COLUMNS = COLUMNS[:-1]
CAPTURE_SIZE = {"quick": "cpu", "full": "full", "thorough": "full"}
RENDER_FRAMES = 2  # the table needs the test-view renders only; a token path keeps render cheap
SHARED_STAGES = ("ingest", "poses", "masks")
METHOD_STAGES = ("inpaint", "render", "evaluate")


def lookup(record: dict, path: tuple[str, ...]) -> float | None:
    """The number at `path` in a run record, None where the run has none (e.g. no LPIPS weights)."""
    value = record
    for key in path:
        if not isinstance(value, dict) or value.get(key) is None:
            return None
        value = value[key]
    return float(value)


def summarise(results: list[dict]) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(method, column) -> (mean, standard deviation, runs) over the seeds that have the number."""
    cells = {}
    for method in dict.fromkeys(r["method"] for r in results):
        runs = [r for r in results if r["method"] == method]
        for title, path, _ in COLUMNS:
            values = [v for v in (lookup(r, path) for r in runs) if v is not None]
            if values:
                spread = statistics.stdev(values) if len(values) > 1 else 0.0
                cells[method, title] = (statistics.fmean(values), spread, len(values))
    return cells


def build_table(results: list[dict]) -> str:
    """Markdown table: one row per method, mean ± standard deviation over seeds of each column;
    the best mean of each quality column is marked with *, columns no run has are left out."""
    methods = list(dict.fromkeys(r["method"] for r in results))
    cells = summarise(results)
    columns = [c for c in COLUMNS if any((m, c[0]) in cells for m in methods)]
    best = {}
    for title, _, higher in (c for c in columns if c in QUALITY_COLUMNS):
        means = {m: cells[m, title][0] for m in methods if (m, title) in cells}
        best[title] = (max if higher else min)(means, key=means.get)
    seeds = sorted({r["seed"] for r in results})
    header = "| method | " + " | ".join(t + ("" if h else " ↓") for t, _, h in columns) + " |"
    lines = [f"seeds: {seeds}", header, "|" + "---|" * (len(columns) + 1)]
    for method in methods:
        row = [method]
        for title, _, _ in columns:
            if (method, title) not in cells:
                row.append("n/a")
                continue
            mean, std, _ = cells[method, title]
            digits = 4 if abs(mean) < 1 else 1 if title.endswith(" s") else 2
            row.append(f"{mean:.{digits}f} ± {std:.{digits}f}" + ("*" if best.get(title) == method else ""))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def margins(results: list[dict], method: str, column: str) -> dict[str, float]:
    """Per other method: mean over seeds of (method's score - other's score) in `column`
    (positive = `method` better, whichever direction the column counts as better)."""
    title = next(c for c in COLUMNS if c[0] == column)
    _, path, higher = title
    by_seed: dict[int, dict[str, float]] = {}
    for r in results:
        value = lookup(r, path)
        if value is not None:
            by_seed.setdefault(r["seed"], {})[r["method"]] = value
    out: dict[str, list[float]] = {}
    for scores in by_seed.values():
        if method not in scores:
            continue
        for other, value in scores.items():
            if other != method:
                diff = scores[method] - value
                out.setdefault(other, []).append(diff if higher else -diff)
    return {other: statistics.fmean(diffs) for other, diffs in out.items()}


def job_values(capture: Path, store: Path, preset: str, n_test: int, overrides: list[str]) -> dict:
    """The job the CLI would build for a SPIn-NeRF capture; quality.py's render/evaluate choices on top."""
    from flows.commands.options import parse_overrides
    from flows.job import merge_job_values

    values = {
        "capture": str(capture),
        "store": str(store),
        "preset": preset,
        "protocol": "spinnerf",
        "ingest": {"n_gt": n_test},
        "render": {"n_frames": RENDER_FRAMES, "compare": "none", "keep_frames": False},
        "evaluate": {"stills": 1},
    }
    return merge_job_values(values, parse_overrides(overrides))


def make_capture(folder: Path, preset: str, seed: int) -> tuple[Path, int, float]:
    """The seed's SPIn-NeRF-shaped capture (kept between runs: written once per folder)."""
    from inpaint3d_core.synthetic.spinnerf import spinnerf_config, write_spinnerf_capture

    description = folder / "scene.json"
    if description.exists():
        scene = json.loads(description.read_text())
        return folder, int(scene["n_test"]), float(scene["measured"]["unseen_fraction"])
    if folder.exists():
        shutil.rmtree(folder)  # a capture cut short while it was written
    capture = write_spinnerf_capture(
        spinnerf_config(CAPTURE_SIZE[preset], seed=seed), folder, workers=max(1, os.cpu_count() or 1)
    )
    return capture.folder, capture.n_test, capture.unseen_fraction


def _run_stages(store_path: Path, values: dict, names: tuple[str, ...]) -> dict[str, float]:
    from flows.job import build_job
    from inpaint3d_core.store import SceneStore
    from stages.pipeline import PIPELINE

    stages = {stage.SPEC.name: stage for stage in PIPELINE}
    job = build_job(list(PIPELINE), values)
    store = SceneStore(str(store_path))
    seconds = {}
    for name in names:
        start = time.perf_counter()
        stages[name].run(store, job.stage_config(name))
        seconds[name] = time.perf_counter() - start
    return seconds


def prepare_seed(out: Path, preset: str, seed: int, overrides: list[str]) -> dict:
    """Capture + base store (shared stages) of one seed; returns what the method runs need."""
    capture, n_test, unseen = make_capture(out / f"seed{seed}" / "capture", preset, seed)
    base = out / f"seed{seed}" / "base.zarr"
    values = job_values(capture, base, preset, n_test, overrides)
    seconds = _run_stages(base, values, SHARED_STAGES)
    return {"seed": seed, "capture": str(capture), "n_test": n_test, "unseen_fraction": unseen, "shared_s": seconds}


def run_record(method: str, seed_info: dict, seconds: dict, timings: dict, metrics: dict) -> dict:
    """One run's record: evaluate's metrics under the benchmark's method name. The metrics carry
    their own "method", the inpaint stage's (joint for every joint variant), kept as
    "inpaint_method": it once overwrote the name and merged the joint variants into one row."""
    return {
        **metrics,
        "method": method,
        "inpaint_method": metrics.get("method"),
        "seed": seed_info["seed"],
        "unseen_fraction": seed_info["unseen_fraction"],
        "seconds": {**seed_info["shared_s"], **seconds},
        "inpaint_timings": timings,
    }


def run_method(out: Path, preset: str, seed_info: dict, method: str, overrides: list[str]) -> dict:
    """One method on one seed from the base store; its record is also written to OUT/seed{S}/{method}.json."""
    from inpaint3d_core.scene import read_metrics
    from inpaint3d_core.store import SceneStore

    seed = seed_info["seed"]
    folder = out / f"seed{seed}"
    store_path = folder / f"{method}.zarr"
    if store_path.exists():
        shutil.rmtree(store_path)
    shutil.copytree(folder / "base.zarr", store_path)
    values = job_values(Path(seed_info["capture"]), store_path, preset, seed_info["n_test"], overrides)
    values["inpaint"] = {**values.get("inpaint", {}), **METHODS[method]}
    print(f"seed {seed} / {method} ...", flush=True)
    seconds = _run_stages(store_path, values, METHOD_STAGES)
    store = SceneStore(str(store_path))
    record = run_record(method, seed_info, seconds, store.record("inpaint").timings, read_metrics(store))
    (folder / f"{method}.json").write_text(json.dumps(record, indent=2, default=str))
    print(f"seed {seed} / {method} done: inpaint {seconds['inpaint']:.0f} s", flush=True)
    return record


def read_records(folder: Path) -> list[dict]:
    """Every run record under `folder` (OUT/seed*/METHOD.json), in method then seed order."""
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("seed*/*.json"))]
    if not records:
        raise SystemExit(f"{folder}: no seed*/<method>.json run records there")
    order = {m: i for i, m in enumerate(METHODS)}
    return sorted(records, key=lambda r: (order.get(r["method"], len(order)), r["seed"]))


def run_all(
    seeds: list[int], methods: list[str], preset: str, out: Path, overrides: list[str], workers: int
) -> list[dict]:
    infos = [prepare_seed(out, preset, seed, overrides) for seed in seeds]
    jobs = [(info, method) for info in infos for method in methods]
    if workers <= 1:
        return [run_method(out, preset, info, method, overrides) for info, method in jobs]
    # spawn: a forked child cannot initialise CUDA after the parent touched it
    context = multiprocessing.get_context("spawn")
    results = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(run_method, out, preset, info, method, overrides): (info, method) for info, method in jobs
        }
        for future in as_completed(futures):
            info, method = futures[future]
            try:
                results.append(future.result())
            except Exception as error:  # one failed run must not lose the others' results
                print(f"seed {info['seed']} / {method} failed: {error!r}", flush=True)
    return results


def write_pictures(out: Path, seed: int, methods: list[str]) -> Path | None:
    """One test view (the one with the most unseen mask pixels): ground truth, then each method's render."""
    import imageio.v3 as iio
    import numpy as np

    from inpaint3d_core.media import side_by_side
    from inpaint3d_core.scene import load_posed_views, read_view_render
    from inpaint3d_core.store import SceneStore

    folder = out / f"seed{seed}"
    stores = {m: SceneStore(str(folder / f"{m}.zarr")) for m in methods if (folder / f"{m}.zarr").exists()}
    if not stores:
        return None
    views = load_posed_views(next(iter(stores.values())))
    tests = [int(i) for i in views.indices("test")]
    view = max(tests, key=lambda i: int(np.count_nonzero(views.gt_unseen(i))))
    images = [views.gt_image(view)] + [read_view_render(store, view)["rgb"] for store in stores.values()]
    path = folder / "pictures.png"
    iio.imwrite(path, side_by_side(images, ["ground truth", *stores]))
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(CAPTURE_SIZE), default="quick")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--out", type=Path, default=REPO / "outputs" / "bench_quality")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="STAGE.FIELD=VALUE")
    parser.add_argument("--jobs", type=int, default=1, help="method runs at once, one process each")
    parser.add_argument("--pictures", action="store_true", help="write the first seed's picture row")
    parser.add_argument("--table-from", type=Path, help="only print the table of the run records in this folder")
    args = parser.parse_args(argv)

    if args.table_from is not None:
        print(build_table(read_records(args.table_from)))
        return
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    run_all(args.seeds, args.methods, args.preset, args.out, args.overrides, args.jobs)
    if args.pictures:
        print(f"pictures: {write_pictures(args.out, args.seeds[0], args.methods)}")
    records = read_records(args.out)
    unseen = {r["seed"]: r["unseen_fraction"] for r in records}
    print()
    print(
        f"object removal, SPIn-NeRF-shaped synthetic benchmark ({CAPTURE_SIZE[args.preset]} size), preset "
        f"{args.preset}, {time.perf_counter() - started:.0f} s total; unseen fraction of the test masks per seed: "
        + ", ".join(f"{s}: {u:.3f}" for s, u in sorted(unseen.items()))
    )
    print(build_table(records))


if __name__ == "__main__":
    main()

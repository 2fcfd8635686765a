"""The whole pipeline on one real-size capture on one GPU: seconds per stage against the budget.

Runs ingest -> poses -> masks -> inpaint -> render -> evaluate one by one through the stages'
Python API with the job the CLI would build (`--preset full` unless told otherwise), and prints
one table: seconds per stage, each stage's share, the total against the 600 s budget, the peak
GPU memory of each stage, and the quality numbers evaluate stored (masked / bbox PSNR, SSIM,
multi-view consistency). The inpaint stage's own split (prior training, warm-up + joint loop,
visibility) comes from its stored timings.

The capture: `--capture DIR` (any folder the ingest stage reads: SPIn-NeRF/LLFF, synthetic,
photos), or by default a synthetic capture made first (not timed) at 1008x567 with 100 views
(the SPIn-NeRF-shaped one of `benchmarks/captures.py`, seed `--seed`, scored by the SPIn-NeRF
protocol on its 40 object-free test views).

    source benchmarks/gpu_env.sh   # on the GPU machine
    python benchmarks/e2e_gpu.py [--capture DIR] [--set inpaint.steps_scale=0.5] [--budget 600] [--stills 3]

`--stills N` also writes, for N training views spread over the capture, the photo with its mask
outlined beside the inpainted render (WORKDIR/stills/<view>.png): the before/after to look at.

Without CUDA it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from flows.commands.options import parse_overrides  # noqa: E402
from flows.job import build_job, merge_job_values  # noqa: E402
from inpaint3d_core.scene import read_metrics  # noqa: E402
from inpaint3d_core.store import SceneStore  # noqa: E402
from stages.pipeline import PIPELINE  # noqa: E402


def spinnerf_capture(folder: Path, seed: int) -> tuple[Path, int]:
    """The SPIn-NeRF-shaped synthetic capture at 1008x567 (100 views, 40 object-free test views)."""
    from inpaint3d_core.synthetic.spinnerf import spinnerf_config, write_spinnerf_capture

    capture = write_spinnerf_capture(spinnerf_config("full", seed=seed), folder, image_format="jpg")
    return capture.folder, capture.n_test


def job_values(capture: str, store: str, preset: str, overrides: list[str], n_test: int | None) -> dict:
    """The job the CLI would build: `--preset`, `--protocol spinnerf` with the test views, `--set`."""
    values: dict = {"capture": capture, "store": store, "preset": preset}
    if n_test is not None:
        values.update({"protocol": "spinnerf", "ingest": {"n_gt": n_test}})
    return merge_job_values(values, parse_overrides(overrides))


def run_stages(store: SceneStore, job, console: Console) -> list[dict]:
    rows = []
    for stage in PIPELINE:
        name = stage.SPEC.name
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
        start = time.perf_counter()
        result = stage.run(store, job.stage_config(name), force=True)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated() / 2**30
        timings = store.record(name).timings
        rows.append({"stage": name, "seconds": seconds, "peak_gib": peak, "timings": timings})
        console.print(f"{name}: {seconds:.1f} s, peak {peak:.1f} GiB, {json.dumps(result.summary, default=str)[:400]}")
    return rows


def quality_rows(store: SceneStore) -> list[tuple[str, str]]:
    metrics = read_metrics(store)
    mean, consistency = metrics["mean"], metrics.get("consistency") or {}
    out = []
    for region in ("masked", "bbox", "seen", "unseen", "full"):  # seen/unseen: captures that mark them
        for metric, value in (mean.get(region) or {}).items():
            out.append((f"{region} {metric}", f"{value:.3f}"))
    for key in ("photometric_l1", "depth_error", "coverage"):
        if consistency.get(key) is not None:
            out.append((f"consistency {key}", f"{consistency[key]:.4f}"))
    out.append(("scored views", str(metrics.get("scored_views"))))
    return out


def write_stills(store: SceneStore, folder: Path, count: int) -> list[Path]:
    """Photo with the mask outlined | inpainted render, for `count` training views with a mask."""
    import imageio.v3 as iio
    import numpy as np

    from inpaint3d_core.media import overlay_mask, side_by_side
    from inpaint3d_core.scene import load_masks, load_posed_views, read_view_render

    views, masks = load_posed_views(store), load_masks(store)
    masked = [int(i) for i in views.indices("train") if np.asarray(masks[int(i)]).any()]
    picks = sorted({masked[k] for k in np.linspace(0, len(masked) - 1, count).round().astype(int)}) if masked else []
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in picks:
        before = overlay_mask(views.image(i), np.asarray(masks[i]) > 0)
        pair = side_by_side([before, read_view_render(store, i)["rgb"]], ["photo + mask", "inpainted"])
        paths.append(folder / f"{views.views[i].name}.png")
        iio.imwrite(paths[-1], pair)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--capture", help="capture folder (default: make the synthetic one)")
    parser.add_argument("--workdir", default=None, help="where the store (and made capture) go")
    parser.add_argument("--preset", default="full")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="STAGE.FIELD=VALUE (YAML)")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds the whole pipeline may take")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic SPIn-NeRF-shaped capture")
    parser.add_argument("--n-test", type=int, default=None, help="--capture is SPIn-NeRF-shaped: its test views")
    parser.add_argument("--stills", type=int, default=0, help="before/after pictures of this many views")
    args = parser.parse_args(argv)
    console = Console(width=150)
    if not torch.cuda.is_available():
        console.print("e2e_gpu: skipped, no CUDA GPU here (this benchmark times the pipeline on a GPU)")
        return
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="e2e_gpu_"))
    workdir.mkdir(parents=True, exist_ok=True)
    capture, n_test = args.capture, args.n_test
    if capture is None:
        start = time.perf_counter()
        folder, n_test = spinnerf_capture(workdir / "capture", args.seed)
        capture = str(folder)
        console.print(f"made the SPIn-NeRF-shaped capture (1008x567, 100 views) in {time.perf_counter() - start:.0f} s")
    store_path = workdir / "scene.zarr"
    job = build_job(list(PIPELINE), job_values(capture, str(store_path), args.preset, args.overrides, n_test))
    store = SceneStore(str(store_path))
    rows = run_stages(store, job, console)

    total = sum(r["seconds"] for r in rows)
    table = Table(title=f"end to end, {Path(capture).name}, preset {args.preset}, {torch.cuda.get_device_name()}")
    for col in ("stage", "seconds", "share", "peak GPU GiB", "inside the stage"):
        table.add_column(col, justify="right")
    for r in rows:
        inner = ", ".join(f"{k} {v:.0f}" for k, v in r["timings"].items() if isinstance(v, float) and v >= 1.0)
        table.add_row(
            r["stage"], f"{r['seconds']:.1f}", f"{100 * r['seconds'] / total:.0f}%", f"{r['peak_gib']:.1f}", inner
        )
    verdict = "within" if total <= args.budget else "OVER"
    table.add_row(
        "total",
        f"{total:.1f}",
        "100%",
        f"{max(r['peak_gib'] for r in rows):.1f}",
        f"{verdict} the {args.budget:.0f} s budget ({total / args.budget:.2f}x)",
    )
    quality = Table(title="quality (evaluate stage)")
    quality.add_column("metric")
    quality.add_column("value", justify="right")
    for name, value in quality_rows(store):
        quality.add_row(name, value)
    if args.stills:
        for path in write_stills(store, workdir / "stills", args.stills):
            console.print(f"still: {path}")
    console.print(quality)
    console.print(table)


if __name__ == "__main__":
    main()

"""Captures for the benchmarks, written as folders the pipeline reads like a user's capture.

`make-spinnerf`: the SPIn-NeRF-shaped synthetic object-removal capture
(`inpaint3d_core.synthetic.spinnerf`): forward-facing handheld views of a box on a table in
front of structured walls and floor; the first N_TEST images (sorted) are object-free test views
with `test_label/` and `test_unseen/` masks, the rest training views with `label/` masks. Prints
the generation time (render / visibility / write) and the fraction of test-mask pixels no
training view saw, and the command that runs the pipeline on it. `unseen`: the same fraction per
seed from the geometry alone (no images written), for choosing scene settings.

    .venv/bin/python benchmarks/captures.py make-spinnerf --size full --seed 0 --out outputs/spinnerf_full_s0
    .venv/bin/python benchmarks/captures.py make-spinnerf --size cpu --seed 1 --out /tmp/spinnerf_cpu_s1
    .venv/bin/python benchmarks/captures.py unseen --size full --seeds 0,1,2
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from inpaint3d_core.synthetic.spinnerf import SPINNERF_SIZES, measure_unseen, spinnerf_config, write_spinnerf_capture

app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])


@app.callback()
def _commands() -> None:
    """Keep `make-spinnerf` a subcommand (typer runs a lone command as the whole app)."""


@app.command("make-spinnerf")
def make_spinnerf(
    out: Path = typer.Option(..., help="Empty (or new) folder to write the capture into."),
    size: str = typer.Option("full", help=f"One of {sorted(SPINNERF_SIZES)}: {SPINNERF_SIZES}."),
    seed: int = typer.Option(0, help="Scene seed (materials, furniture, object proportions, camera jitter)."),
    n_test: int | None = typer.Option(None, help="Object-free test views (default 40% of the views)."),
    factor: int = typer.Option(4, help="N of the images_N/ folder; poses_bounds' hwf is N x the stored size."),
    image_format: str = typer.Option("png", "--format", help="png (exact) or jpg."),
    workers: int = typer.Option(1, min=1, help="Processes rendering views in parallel (same files)."),
) -> None:
    """Write the SPIn-NeRF-shaped capture and print its generation time and unseen fraction."""
    if size not in SPINNERF_SIZES:
        raise typer.BadParameter(f"choose one of {sorted(SPINNERF_SIZES)}", param_hint="--size")
    if image_format not in ("png", "jpg"):
        raise typer.BadParameter("png or jpg", param_hint="--format")
    config = spinnerf_config(size, seed=seed)
    capture = write_spinnerf_capture(
        config, out, n_test=n_test, factor=factor, image_format=image_format, workers=workers
    )
    s = capture.seconds
    typer.echo(
        f"{out}: {len(capture.names)} views at {config.width}x{config.height} ({capture.n_test} test, "
        f"{len(capture.names) - capture.n_test} train), seed {seed}"
    )
    typer.echo(
        f"generation {s['total']:.1f} s with {workers} worker(s) (summed over views: render {s['render']:.1f}, "
        f"visibility {s['visibility']:.1f}, write {s['write']:.1f}; CPU time {s['cpu']:.1f} s)"
    )
    typer.echo(
        f"unseen fraction of the test masks: {capture.unseen_fraction:.3f} (per view "
        f"{min(capture.unseen_per_view):.3f}-{max(capture.unseen_per_view):.3f}); mask area: train "
        f"{capture.train_mask_area:.3f}, test {capture.test_mask_area:.3f}"
    )
    store = out.with_name(out.name + ".zarr")
    typer.echo(f"run: inpaint3d run {out} --store {store} --protocol spinnerf --set ingest.n_gt={capture.n_test}")


@app.command("unseen")
def unseen(
    size: str = typer.Option("full", help=f"One of {sorted(SPINNERF_SIZES)}."),
    seeds: str = typer.Option("0,1,2", help="Comma-separated scene seeds."),
) -> None:
    """Print the unseen fraction and mask areas per seed from the geometry alone (nothing written)."""
    if size not in SPINNERF_SIZES:
        raise typer.BadParameter(f"choose one of {sorted(SPINNERF_SIZES)}", param_hint="--size")
    for seed in (int(s) for s in seeds.split(",")):
        start = time.perf_counter()
        m = measure_unseen(spinnerf_config(size, seed=seed), progress=True)
        typer.echo(
            f"{size} seed {seed}: unseen {m['unseen_fraction']:.3f} (per view {min(m['unseen_per_view']):.3f}-"
            f"{max(m['unseen_per_view']):.3f}), mask area train {m['train_mask_area']:.3f} test "
            f"{m['test_mask_area']:.3f}, {time.perf_counter() - start:.1f} s"
        )


if __name__ == "__main__":
    app()

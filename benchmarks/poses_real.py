"""Pose estimation on the real captures in ../shared/data against the poses shipped with them.

For each capture: ingest (downscaled), estimate poses from scratch with COLMAP (the poses stage,
`source=estimate`), read the shipped poses for the same views (COLMAP model, transforms.json or
LLFF poses_bounds.npy), and print views, registered views, median rotation / centre error after
one Sim(3) alignment, the same after one Sim(3) per continuous block of the shipped poses
(shipped reconstructions can be folded: see `inpaint3d_core.alignment.continuous_blocks`), and
seconds per stage on this machine. The video row has no shipped poses for its frames.

    .venv/bin/python benchmarks/poses_real.py [--only fox] [--data ../shared/data]
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from inpaint3d_core.alignment import blockwise_pose_errors, continuous_blocks, pose_errors
from inpaint3d_core.io.pose_import import ViewCameras, import_colmap, import_llff, import_transforms
from inpaint3d_core.scene import load_posed_views
from inpaint3d_core.store import SceneStore
from stages import ingest, poses

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Case:
    name: str
    capture: str  # relative to the data folder
    max_side: int
    reference: str | None  # pose file format to compare with: colmap, transforms, llff
    ingest_options: dict | None = None


CASES = (
    Case("beer_can", "beer_can", 480, "colmap"),
    Case("fox", "fox", 400, "transforms"),
    Case("llff_fern", "llff_fern", 504, "llff"),
    Case("maryrose_tankard", "maryrose_tankard", 432, "llff"),
    Case("beer_can video", "beer_can/Beer.mp4", 480, None, {"video_frames": 60}),
)


def _reference(case: Case, store: SceneStore) -> ViewCameras:
    group = store.read("ingest")
    views, capture = list(group.attrs["views"]), Path(group.attrs["capture"])
    path = capture / group.attrs["pose_sources"][case.reference]
    if case.reference == "colmap":
        return import_colmap(path, views)
    if case.reference == "transforms":
        return import_transforms(path, views)
    return import_llff(path, views, group.attrs["image_files"])


def run_case(case: Case, data: Path, workdir: Path) -> dict:
    store = SceneStore(workdir / f"{case.name.replace(' ', '_')}.zarr")
    start = time.perf_counter()
    options = {"capture": str(data / case.capture), "max_side": case.max_side, **(case.ingest_options or {})}
    ingest.run(store, ingest.Config(**options))
    ingest_s = time.perf_counter() - start
    start = time.perf_counter()
    result = poses.run(store, poses.Config(source="estimate"))
    poses_s = time.perf_counter() - start
    row = {
        "capture": case.name,
        "size": f"{case.max_side} px",
        "views": result.summary["views"],
        "registered": result.summary["registered"],
        "ingest_s": ingest_s,
        "poses_s": poses_s,
        "matcher": store.read("poses").attrs["matcher"],
    }
    if case.reference is None:
        return row
    estimated = load_posed_views(store)
    reference = _reference(case, store)
    both = estimated.registered & reference.registered
    est, ref = estimated.cameras.c2w[both], reference.c2w[both]
    errors = pose_errors(est, ref)
    rotation, center, blocks = blockwise_pose_errors(est, ref)
    row.update(
        {
            "rot_med": float(np.median(errors.rotation_deg)),
            "center_med": float(np.median(errors.relative_center_error)),
            "blocks": len(continuous_blocks(ref)),
            "est_blocks": len(continuous_blocks(est, min_views=1)),
            "block_rot_med": float(np.median(rotation)),
            "block_center_med": float(np.median(center)),
            "block_views": int(sum(len(b) for b in blocks)),
        }
    )
    return row


def main(
    data: Path = typer.Option(DATA, help="Folder holding the real captures."),
    only: str | None = typer.Option(None, help="Run only the capture with this name."),
) -> None:
    """Print one row per real capture: registration and agreement with the shipped poses."""
    cases = [c for c in CASES if only is None or c.name == only]
    rows = []
    with tempfile.TemporaryDirectory(prefix="poses_real_") as tmp:
        for case in cases:
            if not (data / case.capture).exists():
                typer.echo(f"skipping {case.name}: {data / case.capture} not found")
                continue
            rows.append(run_case(case, data, Path(tmp)))
    table = Table(title="COLMAP (pycolmap, CPU) vs shipped poses; errors after Sim(3) alignment")
    columns = (
        "capture",
        "size",
        "views",
        "registered",
        "matcher",
        "rot_med",
        "center_med",
        "blocks",
        "block_views",
        "block_rot_med",
        "block_center_med",
        "ingest_s",
        "poses_s",
    )
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_fmt(col, row.get(col)) for col in columns))
    Console(width=200).print(table)
    typer.echo("rot_med: median rotation error (deg); center_med: median centre error / shipped camera extent;")
    typer.echo("block_*: one Sim(3) per continuous block of the shipped poses (blocks = their count);")
    typer.echo("est_blocks: continuous blocks of the estimate (1 = no jump above 60 deg between neighbours).")


def _fmt(col: str, value) -> str:
    if value is None:
        return "-"
    if col in ("center_med", "block_center_med"):
        return f"{100 * value:.2f}%"
    if isinstance(value, float):
        return f"{value:.2f}" if col.endswith("_med") else f"{value:.1f}"
    return str(value)


if __name__ == "__main__":
    typer.run(main)

"""Mask propagation without SAM on synthetic scenes: IoU against the exact object masks.

For each seed x object (sphere, box) at a synthetic preset: write the store (`write_store`:
exact cameras, COLMAP-like sparse points kept only where two or more views see them), take the
ground-truth mask of view 0 (the first view of the arc, as the masks test does) as the one
reference, propagate it to every view (`propagate`, default settings, no SAM; with the images, so
the projections are snapped to the image outline unless `--refine none`) and print the min
and mean IoU over the other views, the worst view and seconds. `--overlays DIR` also saves, per
scene, a PNG of the worst views: image, then truth (green) vs propagated (red) where they differ.

    .venv/bin/python benchmarks/masks_iou.py [--preset quick] [--seeds 0,1,2] [--overlays outputs/masks_iou]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from inpaint3d_core.masks import morphology
from inpaint3d_core.masks.propagate import PropagationSettings, ScenePoints, observed_matrix, propagate
from inpaint3d_core.scene import PosedViews, load_posed_views, load_sparse_points
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_store
from inpaint3d_core.synthetic.config import PresetName

REFERENCE_VIEW = 0
OBJECTS = ("sphere", "box")


def _overlay(image: np.ndarray, truth: np.ndarray, mask: np.ndarray, zoom: int) -> np.ndarray:
    """Image dimmed, missed object pixels green, extra pixels red, agreement white-tinted."""
    out = (image.astype(np.float32) * 0.6).astype(np.uint8)
    truth, mask = truth > 0, mask > 0
    out[truth & mask] = (0.5 * out[truth & mask] + 0.5 * 255).astype(np.uint8)
    out[truth & ~mask] = (0, 255, 0)
    out[~truth & mask] = (255, 0, 0)
    big = cv2.resize(out, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    raw = cv2.resize(image, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    return np.concatenate([raw, big], axis=0)


def _scene_points(store: SceneStore, views: PosedViews) -> ScenePoints:
    pts = load_sparse_points(store)
    observed = observed_matrix(pts.track_views, pts.track_offsets, len(views))
    return ScenePoints(pts.xyz.astype(np.float64), views.cameras, observed)


def main(
    preset: str = typer.Option("quick", help="Synthetic preset: tiny, quick (96x72, 16 views) or full."),
    seeds: str = typer.Option("0,1,2", help="Comma-separated scene seeds."),
    n_points: int = typer.Option(
        12000, help="Sparse points sampled before the two-view track filter (as in the masks test)."
    ),
    overlays: Path | None = typer.Option(None, help="Folder for PNG overlays of each scene's worst views."),
    worst: int = typer.Option(3, help="How many worst views per scene go into the overlay."),
    refine: str = typer.Option("grabcut", help="Image refinement of the projections: grabcut or none."),
) -> None:
    settings = PropagationSettings(image_refine=refine)
    preset_name: PresetName = preset  # type: ignore[assignment]
    table = Table(title=f"propagation without SAM, reference view {REFERENCE_VIEW}, preset {preset}, refine {refine}")
    for column in ("seed", "object", "points", "min IoU", "mean IoU", "worst view", "refined", "seconds", "s / view"):
        table.add_column(column, justify="right")
    all_ious = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (int(s) for s in seeds.split(",")):
            for kind in OBJECTS:
                scene = generate_scene(SyntheticConfig.preset(preset_name, seed=seed, object_type=kind))
                store = SceneStore(Path(tmp) / f"{seed}_{kind}.zarr")
                write_store(scene, store, n_points=n_points)
                views = load_posed_views(store)
                points = _scene_points(store, views)
                start = time.perf_counter()
                result = propagate(points, {REFERENCE_VIEW: views.gt_mask(REFERENCE_VIEW)}, settings, image=views.image)
                seconds = time.perf_counter() - start
                ious = np.array([morphology.iou(m, views.gt_mask(i)) for i, m in enumerate(result.masks)])
                others = np.delete(np.arange(len(views)), REFERENCE_VIEW)
                worst_view = int(others[np.argmin(ious[others])])
                all_ious.append(ious[others])
                table.add_row(
                    str(seed),
                    kind,
                    str(len(points.xyz)),
                    f"{ious[others].min():.3f}",
                    f"{ious[others].mean():.3f}",
                    str(worst_view),
                    str(result.source.count("refined")),
                    f"{seconds:.2f}",
                    f"{seconds / len(views):.3f}",
                )
                if overlays is not None:
                    overlays.mkdir(parents=True, exist_ok=True)
                    picks = others[np.argsort(ious[others])[:worst]]
                    zoom = max(1, 384 // views.views[0].width)
                    tiles = [_overlay(views.image(i), views.gt_mask(i), result.masks[i], zoom) for i in picks]
                    name = f"{preset}_seed{seed}_{kind}_views{'-'.join(map(str, picks))}.png"
                    iio.imwrite(overlays / name, np.concatenate(tiles, axis=1))
    console = Console(width=120)
    console.print(table)
    flat = np.concatenate(all_ious)
    console.print(
        f"all scenes: {len(flat)} views, min IoU {flat.min():.3f}, mean {flat.mean():.3f}, "
        f"views below 0.85: {int((flat < 0.85).sum())}"
    )


if __name__ == "__main__":
    typer.run(main)

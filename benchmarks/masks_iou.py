"""Mask propagation without SAM from one reference mask: IoU against exact or shipped masks.

Scenes:
- cluttered synthetic scenes (`SyntheticConfig(n_clutter=...)`: boxes, wall panels and poles at
  several depths behind the object, on a textured floor), every seed x object (sphere, box) x
  camera path, written with `write_store` (exact cameras, COLMAP-like sparse points kept only
  where two or more views see them); the reference is the exact mask of view 0;
- maryrose_tankard (real DSLR turntable, shipped masks_4/), points triangulated with the known
  LLFF poses as the poses stage does for imported poses; the reference is view 0's shipped mask;
- llff_fern (real forward-facing, no masks): an ellipse over the fern (about 30% of view 0) and a
  box on its trunk (about 8%) are propagated, and the other views' mask areas are compared with
  the reference's (the views all look at the same plant, so the area should hardly change).

Per scene it prints min / median IoU over the other views, the fraction of views at IoU >= 0.8
and >= 0.9, and `spill`: the share of false-positive area lying on background surfaces, i.e.
more than `RIM_FRACTION` of the image size away from the true mask (the rest is a halo along
the object's outline). Real captures are read from ../shared/data and skipped when absent.

    .venv/bin/python benchmarks/masks_iou.py [--preset quick] [--seeds 0,1,2] [--overlays outputs/masks_iou]
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from inpaint3d_core.cameras import Cameras
from inpaint3d_core.io.llff import read_poses_bounds
from inpaint3d_core.masks import morphology
from inpaint3d_core.masks.config import PropagationSettings
from inpaint3d_core.masks.imported import import_masks
from inpaint3d_core.masks.propagate import ScenePoints, observed_matrix, propagate
from inpaint3d_core.scene import load_posed_views, load_sparse_points
from inpaint3d_core.sfm import triangulate_known
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_store
from inpaint3d_core.synthetic.config import PresetName

REFERENCE_VIEW = 0
OBJECTS = ("sphere", "box")
SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
# False positives within this fraction of the image size of the true mask are outline halo.
RIM_FRACTION = 0.02


@dataclass
class Capture:
    """One scene to score: points, images, the reference mask and (where known) every view's truth."""

    name: str
    points: ScenePoints
    images: list[np.ndarray]
    reference: np.ndarray
    truth: list[np.ndarray] | None


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


def spill_share(mask: np.ndarray, truth: np.ndarray) -> tuple[int, int]:
    """(false-positive pixels, those of them farther than the rim from the true mask)."""
    false_positive = (mask > 0) & (truth == 0)
    rim = max(2, int(round(RIM_FRACTION * max(truth.shape))))
    far = (morphology.dilate(morphology.as_binary(truth), rim) == 0) & false_positive
    return int(false_positive.sum()), int(far.sum())


def synthetic_captures(preset: PresetName, seeds: list[int], n_clutter: int, trajectories: list[str], tmp: Path):
    for trajectory in trajectories:
        for seed in seeds:
            for kind in OBJECTS:
                extra = {} if trajectory == "arc" else {"trajectory": trajectory}
                config = SyntheticConfig.preset(preset, seed=seed, object_type=kind, n_clutter=n_clutter, **extra)
                scene = generate_scene(config)
                store = SceneStore(tmp / f"{trajectory}_{seed}_{kind}.zarr")
                write_store(scene, store, n_points=12000)
                views = load_posed_views(store)
                pts = load_sparse_points(store)
                observed = observed_matrix(pts.track_views, pts.track_offsets, len(views))
                points = ScenePoints(pts.xyz.astype(np.float64), views.cameras, observed)
                truth = [views.gt_mask(i) for i in range(len(views))]
                images = [views.image(i) for i in range(len(views))]
                yield Capture(f"{trajectory} {kind} s{seed}", points, images, truth[REFERENCE_VIEW], truth)


def _llff_capture(root: Path, folder: str, size: tuple[int, int], tmp: Path) -> tuple[ScenePoints, list[np.ndarray]]:
    """Images resized to `size` (w, h), LLFF cameras scaled to it, points triangulated with those poses."""
    paths = sorted((root / folder).iterdir())
    poses = read_poses_bounds(root / "poses_bounds.npy")
    n, (w, h) = len(paths), size
    K = poses.K.copy()
    K[:, 0] *= w / poses.width[:, None]
    K[:, 1] *= h / poses.height[:, None]
    cameras = Cameras(K, poses.c2w, np.full(n, w), np.full(n, h))
    images = [cv2.resize(iio.imread(p)[..., :3], size, interpolation=cv2.INTER_AREA) for p in paths]
    cloud = triangulate_known(images, K, poses.c2w, tmp, "sequential", max_features=1000)
    points = ScenePoints(cloud.xyz, cameras, observed_matrix(cloud.track_views, cloud.track_offsets, n))
    return points, images


def maryrose_capture(tmp: Path) -> Capture | None:
    root = SHARED_DATA / "maryrose_tankard"
    if not root.is_dir():
        return None
    points, images = _llff_capture(root, "images_4", (288, 288), tmp / "maryrose")
    names = [p.name for p in sorted((root / "images_4").iterdir())]
    truth = import_masks(root / "masks_4", names, [(288, 288)] * len(names)).masks
    return Capture("maryrose", points, images, truth[REFERENCE_VIEW], truth)


def fern_references(width: int, height: int) -> dict[str, np.ndarray]:
    """Masks a user might draw on fern's view 0: an ellipse over the plant, a box on its trunk."""
    ellipse = np.zeros((height, width), np.uint8)
    centre = (round(0.536 * width), round(0.437 * height))
    axes = (round(0.347 * width), round(0.278 * height))
    cv2.ellipse(ellipse, centre, axes, 0.0, 0.0, 360.0, 1, -1)
    box = np.zeros((height, width), np.uint8)
    box[round(0.40 * height) : round(0.71 * height), round(0.40 * width) : round(0.655 * width)] = 1
    return {"ellipse": ellipse, "box": box}


def fern_captures(tmp: Path):
    root = SHARED_DATA / "llff_fern"
    if not root.is_dir():
        return
    points, images = _llff_capture(root, "images_8", (160, 120), tmp / "fern")
    for name, reference in fern_references(160, 120).items():
        yield Capture(f"fern {name}", points, images, reference, None)


def main(
    preset: str = typer.Option("quick", help="Synthetic preset: tiny, quick (96x72, 16 views) or full."),
    seeds: str = typer.Option("0,1,2", help="Comma-separated scene seeds."),
    clutter: int = typer.Option(8, help="Clutter solids behind the object (0: the plain room)."),
    trajectories: str = typer.Option("arc", help="Comma-separated camera paths of the synthetic scenes."),
    synthetic: bool = typer.Option(True, help="Score the cluttered synthetic scenes."),
    real: bool = typer.Option(True, help="Also score maryrose and llff_fern from ../shared/data when present."),
    overlays: Path | None = typer.Option(None, help="Folder for PNG overlays of each scene's worst views."),
    worst: int = typer.Option(3, help="How many worst views per scene go into the overlay."),
    refine: str = typer.Option("grabcut", help="Image refinement of the projections: grabcut or none."),
) -> None:
    settings = PropagationSettings(image_refine=refine)
    preset_name: PresetName = preset  # type: ignore[assignment]
    table = Table(title=f"propagation without SAM from view {REFERENCE_VIEW}, preset {preset}, clutter {clutter}")
    for column in ("scene", "views", "min IoU", "median IoU", ">= 0.8", ">= 0.9", "spill", "refined", "s / view"):
        table.add_column(column, justify="right")
    areas = Table(title="llff_fern: propagated mask area vs the reference's")
    for column in ("reference", "ref area", "mean area", "max area", "max / ref"):
        areas.add_column(column, justify="right")
    all_ious, spill = [], np.zeros(2, np.int64)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        captures = []
        if synthetic:
            seed_list = [int(s) for s in seeds.split(",")]
            captures += synthetic_captures(preset_name, seed_list, clutter, trajectories.split(","), tmp)
        if real:
            captures += [c for c in [maryrose_capture(tmp), *fern_captures(tmp)] if c is not None]
        for capture in captures:
            start = time.perf_counter()
            images = capture.images
            result = propagate(capture.points, {REFERENCE_VIEW: capture.reference}, settings, image=images.__getitem__)
            per_view = (time.perf_counter() - start) / len(images)
            others = np.delete(np.arange(len(images)), REFERENCE_VIEW)
            if capture.truth is None:
                ref = morphology.area_fraction(capture.reference)
                area = np.array([morphology.area_fraction(result.masks[i]) for i in others])
                areas.add_row(
                    capture.name, f"{ref:.3f}", f"{area.mean():.3f}", f"{area.max():.3f}", f"{area.max() / ref:.2f}"
                )
                continue
            ious = np.array([morphology.iou(result.masks[i], capture.truth[i]) for i in others])
            fp = np.array([spill_share(result.masks[i], capture.truth[i]) for i in others]).sum(axis=0)
            spill += fp
            all_ious.append(ious)
            table.add_row(
                capture.name,
                str(len(others)),
                f"{ious.min():.3f}",
                f"{np.median(ious):.3f}",
                f"{(ious >= 0.8).mean():.2f}",
                f"{(ious >= 0.9).mean():.2f}",
                f"{fp[1] / max(fp[0], 1):.2f}",
                str(result.source.count("refined")),
                f"{per_view:.3f}",
            )
            if overlays is not None:
                overlays.mkdir(parents=True, exist_ok=True)
                picks = others[np.argsort(ious)[:worst]]
                zoom = max(1, 384 // images[0].shape[1])
                tiles = [_overlay(images[i], capture.truth[i], result.masks[i], zoom) for i in picks]
                name = f"{capture.name.replace(' ', '_')}_views{'-'.join(map(str, picks))}.png"
                iio.imwrite(overlays / name, np.concatenate(tiles, axis=1))
    console = Console(width=140)
    console.print(table)
    if all_ious:
        flat = np.concatenate(all_ious)
        console.print(
            f"all scored scenes: {len(flat)} views, min IoU {flat.min():.3f}, median {np.median(flat):.3f}, "
            f">= 0.8: {(flat >= 0.8).mean():.2f}, >= 0.9: {(flat >= 0.9).mean():.2f}, "
            f"spill {spill[1] / max(spill[0], 1):.2f}"
        )
    if areas.row_count:
        console.print(areas)


if __name__ == "__main__":
    typer.run(main)

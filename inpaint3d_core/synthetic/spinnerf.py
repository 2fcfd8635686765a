"""A SPIn-NeRF-shaped object-removal capture: forward-facing handheld views of a box resting on a
table in front of textured walls and floor, written as an LLFF / SPIn-NeRF capture folder.

Why: the orbit scenes photograph most of what their masks hide (84%), so reconstruction alone
wins there. Users' captures (and SPIn-NeRF's benchmark) look at an object from one side: the
ground under and behind it is seen by no photo and must be generated. This module builds that
case with exact answers: the test views are rendered without the object (the ground truth),
and the part of each test mask no training view saw is computed from the geometry.

    capture = write_spinnerf_capture(spinnerf_config("cpu", seed=0), "capture/")
    capture.unseen_fraction   # share of test-mask pixels no training view saw unmasked

Sizes (`SPINNERF_SIZES`): "cpu" is 160x90 with 25 views (10 test + 15 train, SPIn-NeRF's 40/60
split), rendered in seconds on 2 cores, for CPU tests and training (3.3x the pixels of the quick
demo scene, whose 16 views at 96x72 the quick preset trains in about a minute); "full" is
SPIn-NeRF's real size: 100 views (40 test + 60 train) at 1008x567, its images_4/ resolution.

Measured unseen fractions (test-mask pixels no training view saw unmasked), seeds 0 / 1 / 2:
cpu 0.595 / 0.584 / 0.588; full 0.457 / 0.474 / 0.548. The CPU size is higher because its
masks are supersampled at 2x2 rays per pixel and a mask pixel is set when any ray sees the
object, which covers more of the thin seen border at 160 px than at 1008 px.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import imageio.v3 as iio
import numpy as np
from tqdm import tqdm

from inpaint3d_core.cameras import Cameras, scale_intrinsics
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.llff import POSES_BOUNDS, LLFFPoses, write_poses_bounds
from inpaint3d_core.synthetic.config import SyntheticConfig
from inpaint3d_core.synthetic.scene import scene_cameras
from inpaint3d_core.synthetic.visibility import object_mask, unseen_mask
from inpaint3d_core.synthetic.world import SyntheticWorld

SpinnerfSize = Literal["cpu", "full"]
SPINNERF_SIZES: dict[str, dict[str, int]] = {
    "cpu": {"width": 160, "height": 90, "n_views": 25},
    "full": {"width": 1008, "height": 567, "n_views": 100},
}
TEST_FRACTION = 0.4  # SPIn-NeRF: 40 of 100 views are photographed without the object
# The scene's look: a forward handheld sweep (baseline 20% of the distance) of a box resting on
# a table, in front of walls and a floor with structured materials. The table top hides what lies
# under and close behind the box from every view; the far background is partly seen past its
# sides and top: 45-60% of the test masks unseen (measured values in the module docstring).
_SCENE = {
    "trajectory": "forward",
    "baseline": 0.2,
    "textures": "structured",
    "object_type": "box",
    "object_size": 0.2,
    "table_height": 0.6,
    "camera_height": 1.1,
}
# Bounds in poses_bounds.npy: the exact depth range of each view, widened by these factors.
_NEAR_MARGIN, _FAR_MARGIN = 0.9, 1.1


def spinnerf_config(size: SpinnerfSize = "cpu", seed: int = 0, **overrides: Any) -> SyntheticConfig:
    """The SPIn-NeRF-shaped scene at a named size; overrides change any other generator field."""
    if size not in SPINNERF_SIZES:
        raise ValueError(f"unknown SPIn-NeRF capture size {size!r}: choose one of {sorted(SPINNERF_SIZES)}")
    return SyntheticConfig(**{**_SCENE, **SPINNERF_SIZES[size], "seed": seed, **overrides})


def held_out_indices(n_views: int, n_test: int) -> np.ndarray:
    """Positions along the camera path of the test views: spread evenly between training views."""
    if not 0 < n_test < n_views:
        raise ValueError(f"n_test must be between 1 and n_views - 1 ({n_views - 1}), got {n_test}")
    return np.floor((np.arange(n_test) + 0.5) * n_views / n_test).astype(np.int64)


@dataclass
class SpinnerfCapture:
    """What `write_spinnerf_capture` wrote, with the measurements of the scene."""

    folder: Path
    image_dir: Path
    names: list[str]  # sorted file stems; the first n_test are the test views
    n_test: int
    path_index: list[int]  # position along the camera path of each name
    unseen_fraction: float  # test-mask pixels no training view saw unmasked / all test-mask pixels
    unseen_per_view: list[float]  # the same per test view
    train_mask_area: float  # mean object-mask area of the training views (fraction of the image)
    test_mask_area: float
    # render, visibility, write: summed over views (over all workers); total: wall; cpu: all processes
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out["folder"], out["image_dir"] = str(self.folder), str(self.image_dir)
        del out["names"], out["path_index"]
        return out


def write_spinnerf_capture(
    config: SyntheticConfig,
    folder: str | Path,
    n_test: int | None = None,
    factor: int = 4,
    image_format: Literal["png", "jpg"] = "png",
    progress: bool = True,
    workers: int = 1,
) -> SpinnerfCapture:
    """Render `config` view by view and write it as a SPIn-NeRF capture folder; returns its summary.

    Layout (what `inpaint3d ingest --protocol spinnerf --n-gt N_TEST` reads):
      images_<factor>/img_XXX.<png|jpg>  the views, file names sorted = poses_bounds rows; the
                                         first n_test are test views photographed WITHOUT the
                                         object (the exact removal ground truth), the rest are
                                         training views with it. Both are in camera-path order
                                         and interleave along the path (`held_out_indices`).
      images_<factor>/label/img_XXX.png       training views' object masks (PNG, 0/1)
      images_<factor>/test_label/img_XXX.png  test views' masks of the removed region (PNG, 0/1):
                                              where the object would be seen
      images_<factor>/test_unseen/img_XXX.png the part of test_label whose background point no
                                              training view sees unoccluded outside its object
                                              mask (PNG, 0/1; exact, from the geometry)
      poses_bounds.npy   LLFF rows (down-right-back axes, hwf at the full resolution =
                         factor x the stored size, near/far = the view's exact depth range
                         widened by 10%)
      scene.json         generator config, roles and path positions, and the measurements

    n_test: number of test views (default: 40% of the views, SPIn-NeRF's split). Memory stays
    bounded at any size: views are written as they are rendered and only the masks are kept (one
    byte per pixel). JPEG is lossy, so PNG is the default for exact scoring. workers > 1 renders
    views in that many processes (the files are the same; views are independent).
    """
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    folder = Path(folder)
    image_dir = folder / f"images_{factor}"
    if (folder / POSES_BOUNDS).exists() or (image_dir.is_dir() and any(image_dir.iterdir())):
        raise InputError(f"{folder}: already holds a capture; write the SPIn-NeRF capture into an empty folder")
    world, cameras, order, n_test = _layout(config, n_test)
    n = config.n_views
    for sub in ("label", "test_label", "test_unseen"):
        (image_dir / sub).mkdir(parents=True, exist_ok=True)
    writer = _ViewWriter(config, world, cameras, order, n_test, image_dir, "png" if image_format == "png" else "jpg")
    bar = tqdm(total=n + n_test, desc="SPIn-NeRF capture", unit="step", disable=not progress)
    bounds = np.zeros((n, 2))
    seconds = {"render": 0.0, "visibility": 0.0, "write": 0.0}
    regions: dict[int, np.ndarray] = {}
    for k, mask, view_bounds, render_s, write_s in _map(writer, _render_in_worker, range(n), workers, bar):
        bounds[k] = view_bounds
        seconds["render"] += render_s
        seconds["write"] += write_s
        if k < n_test:
            regions[k] = mask
        else:
            writer.train_masks[k - n_test] = mask
    # The unseen masks need every training mask: a second pass, workers started with all of them.
    unseen_px, region_px, unseen_per_view = 0, 0, []
    for k, unseen_count, visibility_s in _map(writer, _unseen_in_worker, regions.items(), workers, bar):
        seconds["visibility"] += visibility_s
        unseen_px, region_px = unseen_px + unseen_count, region_px + int(regions[k].sum())
        unseen_per_view.append(unseen_count / max(1, int(regions[k].sum())))
    bar.close()
    names, train_masks = writer.names, writer.train_masks
    test_area = [float(regions[k].mean()) for k in range(n_test)]

    sorted_cameras = cameras.subset(order)
    write_poses_bounds(
        folder / POSES_BOUNDS,
        LLFFPoses(
            c2w=sorted_cameras.c2w,
            K=scale_intrinsics(sorted_cameras.K, factor, factor),
            width=sorted_cameras.width * factor,
            height=sorted_cameras.height * factor,
            bounds=bounds,
        ),
    )
    seconds["total"] = time.perf_counter() - start
    seconds["cpu"] = _cpu_seconds() - cpu_start  # this process and its workers: wall time may be shorter or longer
    capture = SpinnerfCapture(
        folder=folder,
        image_dir=image_dir,
        names=names,
        n_test=n_test,
        path_index=[int(v) for v in order],
        unseen_fraction=unseen_px / max(1, region_px),
        unseen_per_view=unseen_per_view,
        train_mask_area=float(train_masks.mean()),
        test_mask_area=float(np.mean(test_area)),
        seconds={k: round(v, 3) for k, v in seconds.items()},
    )
    _write_description(capture, config, world)
    return capture


class _ViewWriter:
    """Renders and writes single views of one capture; picklable, so worker processes share it."""

    def __init__(self, config, world, cameras, order, n_test, image_dir, suffix):
        self.config, self.world, self.cameras, self.order, self.n_test = config, world, cameras, order, n_test
        self.image_dir, self.suffix = image_dir, suffix
        self.names = [f"img_{k:03d}" for k in range(config.n_views)]
        self.train_masks = np.zeros((config.n_views - n_test, config.height, config.width), dtype=np.uint8)

    def render_view(self, k: int) -> tuple[int, np.ndarray, tuple[float, float], float, float]:
        """Render sorted view k, write its image and mask; returns k, mask, bounds, seconds."""
        c, view, tick = self.config, int(self.order[k]), time.perf_counter()
        render = self.world.render(
            self.cameras.K[view], self.cameras.c2w[view], c.width, c.height, c.rays_per_pixel_side
        )
        render_s, tick = time.perf_counter() - tick, time.perf_counter()
        name = self.names[k]
        is_test = k < self.n_test
        iio.imwrite(self.image_dir / f"{name}.{self.suffix}", render.gt_rgb if is_test else render.rgb)
        iio.imwrite(self.image_dir / ("test_label" if is_test else "label") / f"{name}.png", render.mask)
        bounds = (_NEAR_MARGIN * float(render.depth.min()), _FAR_MARGIN * float(render.gt_depth.max()))
        return k, render.mask, bounds, render_s, time.perf_counter() - tick

    def write_unseen(self, k: int, region: np.ndarray) -> tuple[int, int, float]:
        """Unseen mask of test view k (needs train_masks filled); returns k, unseen pixels, seconds."""
        view, tick = int(self.order[k]), time.perf_counter()
        train = self.cameras.subset(self.order[self.n_test :])
        K, c2w = self.cameras.K[view], self.cameras.c2w[view]
        unseen = unseen_mask(self.world, K, c2w, region, train, self.train_masks)
        iio.imwrite(self.image_dir / "test_unseen" / f"{self.names[k]}.png", unseen)
        return k, int(unseen.sum()), time.perf_counter() - tick


_WORKER: _ViewWriter | None = None


def _start_worker(writer: _ViewWriter | None) -> None:
    global _WORKER
    _WORKER = writer


def _render_in_worker(k: int):
    return _WORKER.render_view(k)


def _unseen_in_worker(item: tuple[int, np.ndarray]):
    return _WORKER.write_unseen(*item)


def _map(writer: _ViewWriter, function, items, workers: int, bar: tqdm) -> Iterator:
    """function(item) for every item, in this process (workers <= 1) or in a pool of processes
    that each receive `writer` once; results in item order, the progress bar ticked per item."""
    if workers <= 1:
        _start_worker(writer)
        try:
            for item in items:
                yield function(item)
                bar.update(1)
        finally:
            _start_worker(None)
        return
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(writer,)) as pool:
        for result in pool.map(function, items):
            yield result
            bar.update(1)


def _cpu_seconds() -> float:
    """CPU time of this process plus its finished child processes (the workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _layout(config: SyntheticConfig, n_test: int | None) -> tuple[SyntheticWorld, Cameras, np.ndarray, int]:
    """The world, its cameras in path order, the path index of each sorted name (test views
    first, then training views, each in path order) and the number of test views."""
    n = config.n_views
    n_test = round(TEST_FRACTION * n) if n_test is None else int(n_test)
    test_path = held_out_indices(n, n_test)
    order = np.concatenate([test_path, np.setdiff1d(np.arange(n), test_path)])
    world = SyntheticWorld(config)
    cameras = scene_cameras(config, world.object.center)
    for i, eye in enumerate(cameras.centers):
        if not world.is_free(eye):
            raise InputError(f"synthetic scene (seed {config.seed}): camera {i} lies inside a solid; lower jitter")
    return world, cameras, order, n_test


def measure_unseen(config: SyntheticConfig, n_test: int | None = None, progress: bool = False) -> dict[str, Any]:
    """The capture's unseen fraction and mask areas from the geometry alone (no shading, nothing
    written): the numbers `write_spinnerf_capture` reports, at a fraction of its cost, for
    choosing scene settings. Returns unseen_fraction, unseen_per_view, train/test_mask_area."""
    world, cameras, order, n_test = _layout(config, n_test)
    ss = config.rays_per_pixel_side
    size = (config.width, config.height)

    def mask(view: int) -> np.ndarray:
        return object_mask(world, cameras.K[view], cameras.c2w[view], *size, ss)

    train = cameras.subset(order[n_test:])
    train_masks = np.stack([mask(int(v)) for v in tqdm(order[n_test:], desc="train masks", disable=not progress)])
    unseen_px, region_px, per_view, areas = 0, 0, [], []
    for view in tqdm(order[:n_test], desc="test views", disable=not progress):
        region = mask(int(view))
        unseen = unseen_mask(world, cameras.K[view], cameras.c2w[view], region, train, train_masks)
        unseen_px, region_px = unseen_px + int(unseen.sum()), region_px + int(region.sum())
        per_view.append(float(unseen.sum() / max(1, region.sum())))
        areas.append(float(region.mean()))
    return {
        "unseen_fraction": unseen_px / max(1, region_px),
        "unseen_per_view": per_view,
        "train_mask_area": float(train_masks.mean()),
        "test_mask_area": float(np.mean(areas)),
    }


def _write_description(capture: SpinnerfCapture, config: SyntheticConfig, world: SyntheticWorld) -> None:
    views = [
        {"name": name, "role": "test" if k < capture.n_test else "train", "path_index": capture.path_index[k]}
        for k, name in enumerate(capture.names)
    ]
    description = {
        "generator": "inpaint3d_core.synthetic.spinnerf",
        "seed": config.seed,
        "config": config.model_dump(mode="json"),
        "object": world.object.to_dict(),
        "n_test": capture.n_test,
        "views": views,
        "measured": capture.summary(),
    }
    (capture.folder / "scene.json").write_text(json.dumps(description, indent=2))

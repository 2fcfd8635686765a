"""One example per editing task on a synthetic scene, through the real stages, with its numbers.

For each task (removal, completion, replacement, expansion) a synthetic capture is written to a
store, the masks stage (completion: a 3D sphere over the object's upper cap) and the inpaint
stage run with that task, and the result is measured:

- coverage: opacity coverage of the generated region (fraction of its pixels rendered with
  accumulated opacity >= 0.5): the masked pixels of the input views, or the unobserved pixels
  of the virtual views (expansion);
- consistency: multi-view photometric L1 of the region (`inpaint3d_core.consistency`), between
  input views, or between virtual views (expansion); lower is better;
- masked PSNR where ground truth exists: removal against the object-free images inside the
  object masks; completion against the captured object inside the regenerated cap; expansion
  against the exact scene rendered at the virtual cameras inside their unobserved pixels;
  replacement has none (new content);
- kept PSNR (completion): final vs warm-up render outside the regenerated region;
- seconds: the inpaint stage's wall time (prior training included).

A picture per task (captured | result, or warm-up | expanded for expansion) is written to --out.
Replacement uses a tiny random text-conditioned SD inpainting pipeline (no weights exist here),
so its content is meaningless: it shows the prompt path runs and what it costs.

    python benchmarks/tasks_gpu.py --preset quick            # CPU, tiny scene, minutes on 2 cores
    source benchmarks/gpu_env.sh && python benchmarks/tasks_gpu.py --preset full   # one GPU
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sd_models import build_tiny_sd_inpaint_pipeline  # noqa: E402

from inpaint3d_core.edit_tasks import TASKS  # noqa: E402
from inpaint3d_core.media import encode_png, overlay_mask, side_by_side, to_uint8  # noqa: E402
from inpaint3d_core.nerf.trained import load_trained  # noqa: E402
from inpaint3d_core.scene import load_masks, load_posed_views, read_virtual_views  # noqa: E402
from inpaint3d_core.store import SceneStore  # noqa: E402
from inpaint3d_core.synthetic import ExactRenderer, SyntheticConfig, generate_scene, write_store  # noqa: E402
from inpaint3d_core.task_metrics import (  # noqa: E402
    expansion_metrics,
    kept_region_psnr,
    masked_psnr,
    opacity_coverage,
    region_consistency,
    render_cameras,
)
from stages import inpaint as inpaint_stage  # noqa: E402
from stages import masks as masks_stage  # noqa: E402

# Per benchmark preset: synthetic scene size, inpaint preset, step scale, internal prior size, rays.
SETTINGS = {
    "quick": {"scene": "tiny", "inpaint": "quick", "steps_scale": 0.5, "prior_preset": "tiny", "rays": 256},
    "full": {"scene": "full", "inpaint": "full", "steps_scale": 0.15, "prior_preset": "quick", "rays": None},
}
MEASURED_VIEWS = 8  # input views rendered per task for coverage / consistency / PSNR


def _inpaint_config(task: str, settings: dict, args, device: str, **extra) -> inpaint_stage.Config:
    options = {
        "task": task,
        "preset": settings["inpaint"],
        "steps_scale": args.steps_scale or settings["steps_scale"],
        "prior": {"internal_preset": settings["prior_preset"]},
        "device": device,
        "seed": args.seed,
        "sampler": args.sampler,
        **extra,
    }
    rays = args.rays_per_batch or settings["rays"]
    if rays is not None:
        options["rays_per_batch"] = rays
    return inpaint_stage.Config(**options)


def _input_view_numbers(store: SceneStore, truth: str, task: str) -> tuple[dict, np.ndarray]:
    """Coverage, consistency and masked PSNR of the dilated-mask region over a few input views."""
    views = load_posed_views(store)
    holes = load_masks(store, dilated=True)
    raw = load_masks(store, dilated=False)
    picks = [i for i in range(len(views)) if holes[i].any()]
    picks = [picks[k] for k in np.unique(np.linspace(0, len(picks) - 1, MEASURED_VIEWS).round().astype(int))]
    cams = views.cameras
    args = (cams.K[picks], cams.c2w[picks], cams.width[picks], cams.height[picks])
    final = render_cameras(load_trained(store), *args, "final")
    regions = [holes[i] for i in picks]
    consistency = region_consistency(final, regions, cams.K[picks], cams.c2w[picks])
    numbers = {
        "coverage": opacity_coverage(final, regions),
        "consistency": consistency["photometric_l1"] if consistency else None,
        "masked_psnr": None,
        "kept_psnr": None,
    }
    if truth == "object_free":
        numbers["masked_psnr"] = masked_psnr(
            final, [views.gt_image(i) for i in picks], [views.gt_mask(i) for i in picks]
        )
    elif truth == "captured":
        numbers["masked_psnr"] = masked_psnr(final, [views.image(i) for i in picks], [raw[i] for i in picks])
    if task == "completion":
        warmup = render_cameras(load_trained(store, which="warmup"), *args, "warm-up")
        numbers["kept_psnr"] = kept_region_psnr(final, warmup, regions)
    picture = side_by_side([overlay_mask(views.image(picks[0]), holes[picks[0]]), to_uint8(final[0]["rgb"])])
    return numbers, picture


def _expansion_numbers(store: SceneStore, scene) -> tuple[dict, np.ndarray]:
    cams, holes, before = read_virtual_views(store)
    renders = render_cameras(load_trained(store), cams.K, cams.c2w, cams.width, cams.height, "virtual views")
    metrics = expansion_metrics(renders, store)
    oracle = ExactRenderer(scene, load_posed_views(store).normalization, with_object=True)
    truths = render_cameras(oracle, cams.K, cams.c2w, cams.width, cams.height, "exact")
    consistency = metrics["consistency"]
    numbers = {
        "coverage": metrics["opacity_coverage"],
        "consistency": consistency["photometric_l1"] if consistency else None,
        "masked_psnr": masked_psnr(renders, [t["rgb"] for t in truths], holes),
        "kept_psnr": None,
    }
    picture = side_by_side([overlay_mask(before[0], holes[0]), to_uint8(renders[0]["rgb"]), to_uint8(truths[0]["rgb"])])
    return numbers, picture


def run_task(task: str, args, settings: dict, device: str, workdir: Path) -> dict:
    scene = generate_scene(SyntheticConfig.preset(settings["scene"], seed=args.seed))
    store = SceneStore(workdir / f"{task}.zarr")
    write_store(scene, store)
    extra: dict = {}
    if task == "completion":
        obj = scene.object
        radius = float(obj.radius if obj.radius is not None else obj.half_extents.max())
        top = obj.center + np.array([0.0, 0.0, radius])
        masks_stage.run(store, masks_stage.Config(method="sphere", sphere=(*top, 0.6 * radius), dilate_px=2))
    if task == "replacement":
        model = str(build_tiny_sd_inpaint_pipeline(workdir / "tiny-sd"))
        extra = {"prior": {"kind": "stable_diffusion", "model": model, "prompt": args.prompt}}
    if task == "expansion":
        extra = {"expansion": {"fov_factor": args.fov_factor, "wider_views": 4, "extend_views": 2}}
    start = time.perf_counter()
    inpaint_stage.run(store, _inpaint_config(task, settings, args, device, **extra))
    seconds = time.perf_counter() - start
    if task == "expansion":
        numbers, picture = _expansion_numbers(store, scene)
    else:
        truth = {"removal": "object_free", "completion": "captured"}.get(task, "none")
        numbers, picture = _input_view_numbers(store, truth, task)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{task}.png").write_bytes(encode_png(picture))
    return {"task": task, **numbers, "seconds": seconds}


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(SETTINGS), default="full", help="quick: CPU toy; full: one GPU.")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS), help="Tasks to run.")
    parser.add_argument("--steps-scale", type=float, default=None, help="Override the preset's step scale.")
    parser.add_argument("--seed", type=int, default=0, help="Scene and training seed.")
    parser.add_argument("--rays-per-batch", type=int, help="Rays per step (default: the preset's).")
    parser.add_argument(
        "--sampler", choices=("auto", "stratified", "occupancy"), help="Ray sampler (default: the preset's)."
    )
    parser.add_argument("--prompt", default="a red ceramic vase", help="Replacement prompt.")
    parser.add_argument("--fov-factor", type=float, default=1.5, help="Expansion: wider views' side factor.")
    parser.add_argument("--out", type=Path, default=Path("outputs/tasks_benchmark"), help="Pictures go here.")
    args = parser.parse_args()
    settings = SETTINGS[args.preset]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.preset == "full" and device == "cpu":
        print("tasks_gpu: --preset full needs a CUDA GPU; use --preset quick on the CPU")
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks:
            rows.append(run_task(task, args, settings, device, Path(tmp)))
    table = Table(title=f"Tasks on a synthetic scene ({args.preset}, {device}, seed {args.seed})")
    for column in ("task", "coverage", "consistency L1", "masked PSNR", "kept PSNR", "seconds"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for row in rows:
        table.add_row(
            row["task"],
            _fmt(row["coverage"]),
            _fmt(row["consistency"], 4),
            _fmt(row["masked_psnr"], 2),
            _fmt(row["kept_psnr"], 2),
            f"{row['seconds']:.1f}",
        )
    Console().print(table)
    print(f"pictures: {args.out.resolve()}")


if __name__ == "__main__":
    main()

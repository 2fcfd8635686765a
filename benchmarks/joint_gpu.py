"""Joint optimisation on one GPU: where an iteration's time goes, SDS against its floor, and quality.

Prints three tables:
1. Per-iteration time split of the joint phase (sampling + rendering of the reconstruction and
   hole rays with their losses; SDS = crop render + prior call; backward + Adam step), for the
   full-size SD-2-inpainting architecture (random weights, fp16, 512 px, CFG) and for the
   InternalPrior (full preset, untrained: speed does not depend on the weights).
2. One SDS step inside the joint loop (crop render + prior + backward into the NeRF) against the
   floor measured in the same run: the bare SD-2 network calls of an SDS step at 512 px
   (`benchmarks/sds_timing.py: floor_sds_step`), and the prior's own `sds_loss` step.
3. Synthetic object removal (the `full` synthetic preset, 256x192, 40 views): masked PSNR against
   the object-free ground truth for joint (InternalPrior), joint without the depth terms, and
   reconstruction only (masked rays dropped), plus PSNR on the known pixels as a sanity check.

    source benchmarks/gpu_env.sh   # on the GPU machine
    python benchmarks/joint_gpu.py [--steps-scale 0.25] [--seeds 0 1 2]

Without CUDA it says so and exits 0.
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
from sd_models import build_random_sd2_inpaint, prior_without_text_encoder  # noqa: E402
from sds_timing import floor_sds_step, median_ms, prior_sds_step  # noqa: E402

from inpaint3d_core.joint.config import preset  # noqa: E402
from inpaint3d_core.joint.trainer import JointTrainer  # noqa: E402
from inpaint3d_core.metrics import psnr  # noqa: E402
from inpaint3d_core.nerf.trained import TrainedRadianceField  # noqa: E402
from inpaint3d_core.priors.config import PriorConfig  # noqa: E402
from inpaint3d_core.priors.factory import build_prior  # noqa: E402
from inpaint3d_core.priors.internal import InternalPrior, InternalPriorConfig, build_unet  # noqa: E402
from inpaint3d_core.store import SceneStore  # noqa: E402
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_store  # noqa: E402
from stages.inpaint import load_training_views  # noqa: E402

CUDA = torch.device("cuda")


def synthetic_views(seed: int, workdir: Path):
    """The full synthetic preset written to a store and read back as the stage reads it."""
    scene = generate_scene(SyntheticConfig.preset("full", seed=seed))
    store = SceneStore(workdir / f"scene_{seed}.zarr")
    write_store(scene, store)
    views, index, near, far = load_training_views(store)
    return scene, views, index, near, far


def make_trainer(views, near, far, prior, **overrides) -> JointTrainer:
    config = preset("full", **overrides)
    return JointTrainer(views, config, prior, CUDA, config.near_scale * near, config.far_scale * far, profile=True)


def time_split(
    views, near, far, prior, steps: int, warm: int, rays: int, sds_res: int
) -> tuple[dict[str, float], JointTrainer]:
    """ms per joint iteration for each part, after `warm` untimed reconstruction-only iterations.

    The warm-up is real training (not just cache warming): the joint phase starts with the
    hole depth fill, which needs a field that already renders the scene around the hole.
    """
    trainer = make_trainer(
        views,
        near,
        far,
        prior,
        steps=warm + steps,
        warmup_steps=warm,
        sds_every=1,
        rays_per_batch=rays,
        hole_rays_per_batch=rays // 4,
        sds_render_resolution=sds_res,
    )

    def reset(step: int) -> None:
        if step == warm - 1:
            trainer.timings = dict.fromkeys(trainer.timings, 0.0)

    trainer.after_step = reset
    trainer.run()
    split = {k: 1000.0 * v / steps for k, v in trainer.timings.items()}
    split["total"] = sum(split.values())
    return split, trainer


def joint_sds_step(trainer: JointTrainer):
    """One SDS term of the joint loop with its backward into the field, as a closure to time."""

    def step() -> None:
        trainer.optimizer.zero_grad(set_to_none=True)
        trainer._sds_term(0.5).backward()

    return step


def speed(console: Console, views, near, far, repeats: int, rays: int, sds_res: int) -> None:
    pipeline = build_random_sd2_inpaint(CUDA, torch.float16)
    sd2 = prior_without_text_encoder(pipeline, guidance_scale=7.5)
    internal_cfg = InternalPriorConfig.preset("full")
    internal = InternalPrior(build_unet(internal_cfg).to(CUDA).eval().requires_grad_(False), internal_cfg)

    split_table = Table(title=f"joint iteration, ms (full preset, {torch.cuda.get_device_name(CUDA)})")
    for col in ("prior", "sample+render (recon+hole)", "SDS (crop render+prior)", "backward+step", "total"):
        split_table.add_column(col, justify="right")
    trainers = {}
    for name, prior in (("SD-2 512px fp16 CFG", sd2), ("internal 64px", internal)):
        split, trainers[name] = time_split(views, near, far, prior, steps=50, warm=150, rays=rays, sds_res=sds_res)
        split_table.add_row(name, *(f"{split[k]:.1f}" for k in ("render_s", "sds_s", "backward_s", "total")))
        console.print(f"{name}: " + ", ".join(f"{k}={v:.1f} ms" for k, v in split.items()))  # survives a timeout
    console.print(split_table)

    floor = median_ms(floor_sds_step(pipeline, 1, sd2.resolution), CUDA, repeats)
    alone = median_ms(prior_sds_step(sd2, 1), CUDA, repeats)
    joint = median_ms(joint_sds_step(trainers["SD-2 512px fp16 CFG"]), CUDA, repeats)
    sds_table = Table(title=f"SDS step at 512 px, ms (median of {repeats})")
    for col in (
        "floor (bare SD-2 calls)",
        "prior.sds_loss + backward",
        "joint (crop render + prior + NeRF bwd)",
        "joint / floor",
    ):
        sds_table.add_column(col, justify="right")
    sds_table.add_row(f"{floor:.1f}", f"{alone:.1f}", f"{joint:.1f}", f"{joint / floor:.2f}")
    console.print(sds_table)
    del trainers, sd2, pipeline
    torch.cuda.empty_cache()


def masked_psnr(trainer: JointTrainer, scene, index: np.ndarray, views) -> tuple[float, float]:
    """Mean over training views of PSNR inside the object mask vs the object-free ground truth,
    and PSNR on the known pixels vs the captured image."""
    model = TrainedRadianceField(trainer.field, trainer.render_settings, CUDA, trainer.sampler)
    inside, outside = [], []
    for j, view in enumerate(index):
        h, w = views.holes[j].shape
        out = model.render_view(views.K[j], views.c2w[j], w, h, view_id=j)
        mask = scene.masks[view] > 0
        if mask.any():
            inside.append(psnr(out["rgb"], scene.gt_images[view] / 255.0, mask))
        outside.append(psnr(out["rgb"], views.images[j] / 255.0, ~views.holes[j]))
    return float(np.mean(inside)), float(np.mean(outside))


def quality(console: Console, seeds: list[int], steps_scale: float, workdir: Path, first) -> None:
    methods = {
        "joint (internal prior)": {"prior": True},
        "joint, no depth terms": {"prior": True, "depth_fill": "none"},
        "reconstruction only": {"prior": False},
    }
    rows = {name: [] for name in methods}
    for seed in seeds:
        scene, views, index, near, far = first if seed == seeds[0] and first else synthetic_views(seed, workdir)
        start = time.perf_counter()
        masks = [h.astype(np.uint8) for h in views.holes]
        prior = build_prior(PriorConfig(internal_preset="full", seed=seed), CUDA, training_data=(views.images, masks))
        prior_s = time.perf_counter() - start
        for name, spec in methods.items():
            overrides = {"seed": seed}
            if "depth_fill" in spec:
                overrides["depth_fill"] = spec["depth_fill"]
            config = preset("full", steps_scale, **overrides)
            trainer = JointTrainer(
                views, config, prior if spec["prior"] else None, CUDA, config.near_scale * near, config.far_scale * far
            )
            start = time.perf_counter()
            trainer.run()
            seconds = time.perf_counter() - start
            inside, outside = masked_psnr(trainer, scene, index, views)
            rows[name].append((inside, outside, seconds))
            console.print(
                f"seed {seed} {name}: masked PSNR {inside:.2f} dB, known {outside:.2f} dB, {seconds:.0f} s"
                f" (prior trained in {prior_s:.0f} s)"
            )
    table = Table(title=f"synthetic object removal, full preset x{steps_scale} steps, {len(seeds)} seed(s)")
    for col in ("method", "masked PSNR dB (vs GT)", "known-pixel PSNR dB", "train s"):
        table.add_column(col, justify="right")
    for name, values in rows.items():
        arr = np.array(values)
        table.add_row(name, f"{arr[:, 0].mean():.2f}", f"{arr[:, 1].mean():.2f}", f"{arr[:, 2].mean():.0f}")
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps-scale", type=float, default=0.25, help="scale of the full preset's step counts")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="synthetic scene seeds (quality table)")
    parser.add_argument("--repeats", type=int, default=10, help="timed SDS steps (median reported)")
    parser.add_argument(
        "--rays-per-batch", type=int, default=4096, help="reconstruction rays per step in the speed tables (hole: 1/4)"
    )
    parser.add_argument(
        "--sds-render-resolution",
        type=int,
        default=128,
        help="side of the rendered SDS crop, upsampled to the prior's resolution (512 px renders ran out of memory)",
    )
    parser.add_argument("--skip-speed", action="store_true", help="only the quality table")
    parser.add_argument("--skip-quality", action="store_true", help="only the speed tables")
    args = parser.parse_args(argv)
    console = Console()
    if not torch.cuda.is_available():
        console.print("joint_gpu: skipped, no CUDA GPU here (this benchmark times the joint loop on a GPU)")
        return
    workdir = Path(tempfile.mkdtemp(prefix="joint_gpu_"))
    first = synthetic_views(args.seeds[0], workdir)
    if not args.skip_speed:
        speed(console, *first[1:2], *first[3:], args.repeats, args.rays_per_batch, args.sds_render_resolution)
    if not args.skip_quality:
        quality(console, args.seeds, args.steps_scale, workdir, first)


if __name__ == "__main__":
    main()

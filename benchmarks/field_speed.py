"""Field and renderer throughput on one GPU: eager against the compiled fast path, same run.

Prints one table (median ms over `--repeats` after warm-up; compile time reported apart):
- field forward + backward on 2^20 samples at full-preset sizes (16 levels, 2^19 table,
  appearance codes for 100 views) - the issue's target is <= 10 ms on an H200;
- field forward without gradients on 2^20 samples (rendering, density passes);
- one whole 1008x567 frame rendered with the stratified sampler (32 + 32 samples per ray),
  with rays per second;
- internal-prior training steps (full preset architecture, 64 px, bf16) at two batch sizes,
  as ms per step and crops per second, crops cut on the device from a 1008x567 capture; then
  where one step's time goes (drawing the batch, the UNet step alone in three memory layouts,
  the profiler's top kernels, printed above the table).

    source benchmarks/gpu_env.sh   # on the GPU machine
    python benchmarks/field_speed.py [--repeats 20]

Without CUDA it says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from inpaint3d_core.cameras import intrinsics, look_at  # noqa: E402
from inpaint3d_core.nerf.config import FieldConfig, RenderSettings  # noqa: E402
from inpaint3d_core.nerf.field import RadianceField  # noqa: E402
from inpaint3d_core.nerf.trained import TrainedRadianceField  # noqa: E402
from inpaint3d_core.priors.internal import InternalPriorConfig, train_internal_prior  # noqa: E402
from inpaint3d_core.priors.train_step import PriorTrainStep, hole_loss  # noqa: E402

CUDA = torch.device("cuda")
SAMPLES = 1 << 20


def timed(fn, repeats: int) -> tuple[float, float]:
    """(first call s, median ms of `repeats` later calls), synchronised around each call."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    first = time.perf_counter() - start
    fn()
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(1000.0 * (time.perf_counter() - start))
    return first, float(np.median(times))


def field_rows(mode: str, repeats: int) -> list[tuple[str, float, float]]:
    torch.manual_seed(0)
    field = RadianceField(FieldConfig(appearance_dim=16, num_views=100)).to(CUDA)
    field.use_compile(mode, CUDA)
    x = torch.rand(SAMPLES, 3, device=CUDA) * 4 - 2
    d = torch.nn.functional.normalize(torch.randn(SAMPLES, 3, device=CUDA), dim=-1)
    ids = torch.randint(0, 100, (SAMPLES,), device=CUDA)

    def train_step():
        rgb, sigma = field(x, d, ids)
        (rgb.mean() + sigma.mean()).backward()

    def forward():
        with torch.no_grad():
            field(x, d, ids)

    rows = [("field fwd+bwd, 2^20 samples", *timed(train_step, repeats))]
    rows.append(("field fwd (no grad), 2^20 samples", *timed(forward, repeats)))
    model = TrainedRadianceField(field, RenderSettings(sampler="stratified", near=0.1, far=6.0, compile=mode), CUDA)
    K = intrinsics(900.0, 1008, 567)
    c2w = look_at(np.array([0.0, -2.5, 0.8]), np.zeros(3))
    rows.append(("render 1008x567 frame (64 samples/ray)", *timed(lambda: model.render_view(K, c2w, 1008, 567), 3)))
    return rows


def prior_capture() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """100 random 1008x567 views with a 130x160 hole each: what the prior benchmarks train on."""
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (567, 1008, 3), dtype=np.uint8) for _ in range(100)]
    masks = [np.zeros((567, 1008), np.uint8) for _ in range(100)]
    for m in masks:
        m[200:330, 400:560] = 1
    return images, masks


def prior_rows(batches: list[int], steps: int) -> list[tuple[str, float, float]]:
    images, masks = prior_capture()
    rows = []
    for batch in batches:
        config = InternalPriorConfig.preset("full", batch_size=batch, train_steps=steps)
        torch.cuda.synchronize()
        start = time.perf_counter()
        prior = train_internal_prior(images, masks, config, device=CUDA)
        torch.cuda.synchronize()
        total = time.perf_counter() - start
        per_step = 1000.0 * prior.training["seconds"] / steps
        rows.append((f"prior train step, batch {batch} ({1000.0 * batch / per_step:.0f} crops/s)", total, per_step))
    return rows


def prior_breakdown(batch: int, repeats: int) -> tuple[list[tuple[str, float, float]], str]:
    """Where a prior training step's time goes at `batch`: drawing the batch (crops + holes, on the
    device), the UNet step alone on a fixed batch in each way it can run (the column "compile +
    first call s" holds the first 5 steps: warm-up and graph capture), and the profiler's top
    CUDA kernels of the eager bf16 step."""
    from inpaint3d_core.priors.crop_sampler import CropSampler
    from inpaint3d_core.priors.internal import HOLE_BANK_SIZE, build_unet
    from inpaint3d_core.priors.training_masks import HoleBank, own_mask_shapes

    config = InternalPriorConfig.preset("full", batch_size=batch)
    rng = np.random.default_rng(0)
    images, masks = prior_capture()
    sampler = CropSampler(images, masks, config.resolution, config.crop_scales, CUDA)
    own = own_mask_shapes(masks, config.resolution, config.crop_context)
    holes = HoleBank(rng, HOLE_BANK_SIZE, config.resolution, own, config.own_mask_fraction, CUDA)

    def draw():
        sampler.sample(rng, batch)
        holes.sample(rng, batch)

    rows = [(f"prior batch {batch}: draw crops + holes", *timed(draw, repeats))]
    x = torch.randn(batch, 7, config.resolution, config.resolution, device=CUDA)
    t = torch.randint(0, 1000, (batch,), device=CUDA)
    noise = torch.randn(batch, 3, config.resolution, config.resolution, device=CUDA)
    hole = (torch.rand(batch, 1, config.resolution, config.resolution, device=CUDA) < 0.3).float()

    def autocast_step(model):
        """The step as it was before `PriorTrainStep`: fp32 weights under bf16 autocast, eager."""
        optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step():
            with torch.autocast("cuda", torch.bfloat16):
                pred = model(x, t).sample
            loss = hole_loss(pred, noise, hole)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()

        return step

    def library_step(model, graph, memory_format=torch.contiguous_format):
        trainer = PriorTrainStep(model.to(memory_format=memory_format), 1e-4, True, CUDA, graph=graph)
        inputs = x.contiguous(memory_format=memory_format)
        return lambda: trainer.step(inputs, t, noise, hole)

    profiled = "bf16 weights + fp32 masters, eager"
    variants = {
        "fp32 weights + autocast, eager (before)": autocast_step,
        profiled: lambda m: library_step(m, graph=False),
        "bf16 weights + fp32 masters, CUDA graph (library)": lambda m: library_step(m, graph=True),
        "bf16 + masters, CUDA graph, channels-last": lambda m: library_step(m, True, torch.channels_last),
    }
    profile = ""
    for label, make in variants.items():
        torch.manual_seed(0)
        step = make(build_unet(config).to(CUDA).train())
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(5):  # compile / warm-up / capture
            step()
        torch.cuda.synchronize()
        first = time.perf_counter() - start
        rows.append((f"prior batch {batch}: UNet step, {label}", first, timed(step, repeats)[1]))
        if label == profiled:
            activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
            with torch.profiler.profile(activities=activities) as prof:
                for _ in range(3):
                    step()
                torch.cuda.synchronize()
            profile = prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=15)
    return rows, profile


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--prior-steps", type=int, default=100)
    parser.add_argument("--prior-batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--prior-only", action="store_true", help="Skip the field and render rows.")
    args = parser.parse_args(argv)
    console = Console(width=140)
    if not torch.cuda.is_available():
        console.print("field_speed: skipped, no CUDA GPU here")
        return
    eager = [] if args.prior_only else field_rows("off", args.repeats)
    fast = [] if args.prior_only else field_rows("on", args.repeats)
    table = Table(title=f"field and render speed, {torch.cuda.get_device_name(CUDA)}")
    for col in ("what", "eager ms", "compiled ms", "speed-up", "compile + first call s"):
        table.add_column(col, justify="right")
    for (name, _, e_ms), (_, first, c_ms) in zip(eager, fast, strict=True):
        table.add_row(name, f"{e_ms:.2f}", f"{c_ms:.2f}", f"{e_ms / c_ms:.2f}x", f"{first:.1f}")
    if fast:
        rays = 1008 * 567 / (fast[-1][2] / 1000.0)
        table.add_row("render rays/s (compiled)", "", f"{rays / 1e6:.1f} M", "", "")
    prior = prior_rows(args.prior_batches, args.prior_steps)
    for name, total, per_step in prior:
        table.add_row(name, "", f"{per_step:.1f}", "", f"{total:.1f}")
    breakdown, profile = prior_breakdown(max(args.prior_batches), args.repeats)
    for name, first, ms in breakdown:
        table.add_row(name, f"{ms:.2f}", "", "", f"{first:.1f}")
    console.print(profile)
    console.print(table)


if __name__ == "__main__":
    main()

"""SDS step time of the Stable-Diffusion prior against the bare-network floor, one GPU.

Builds the full-size SD-2-inpainting architecture from configs with random weights (no
download; speed does not depend on the weights' values), fp16, 512 px, classifier-free guidance,
and prints ms per SDS step at batch 1/2/4 for:
- floor: VAE encode with grad + masked-image encode + one guided UNet call + surrogate backward,
  written directly on the modules (the least any SDS step with this model must do);
- prior: `StableDiffusionInpaintPrior.sds_loss` + backward (the code path the joint stage runs);
plus the internal prior's SDS step (full preset, untrained) for scale.

    .venv/bin/python benchmarks/sds_floor.py [--repeats 20]

On a machine without CUDA it prints why it skipped and exits 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sd_models import build_random_sd2_inpaint, prior_without_text_encoder  # noqa: E402
from sds_timing import floor_sds_step, median_ms, prior_sds_step  # noqa: E402

from inpaint3d_core.priors.internal import InternalPrior, InternalPriorConfig, build_unet  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed steps per cell (median reported)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4], help="batch sizes")
    args = parser.parse_args(argv)
    console = Console()
    if not torch.cuda.is_available():
        console.print("sds_floor: skipped, no CUDA GPU here (this benchmark times fp16 512 px SD steps on a GPU)")
        return

    device = torch.device("cuda")
    pipeline = build_random_sd2_inpaint(device, torch.float16)
    prior = prior_without_text_encoder(pipeline, guidance_scale=7.5)
    internal_cfg = InternalPriorConfig.preset("full")
    internal = InternalPrior(build_unet(internal_cfg).to(device).eval().requires_grad_(False), internal_cfg)

    table = Table(title=f"SDS step, ms (median of {args.repeats}); {torch.cuda.get_device_name(device)}")
    for column in ("batch", "floor SD2 512px fp16 CFG", "prior SD2", "prior / floor", "peak GiB", "internal 64px"):
        table.add_column(column, justify="right")
    for batch in args.batches:
        torch.cuda.reset_peak_memory_stats(device)
        floor = median_ms(floor_sds_step(pipeline, batch, prior.resolution), device, args.repeats)
        ours = median_ms(prior_sds_step(prior, batch), device, args.repeats)
        peak = torch.cuda.max_memory_allocated(device) / 2**30
        small = median_ms(prior_sds_step(internal, batch), device, args.repeats)
        table.add_row(str(batch), f"{floor:.1f}", f"{ours:.1f}", f"{ours / floor:.2f}", f"{peak:.1f}", f"{small:.1f}")
    console.print(table)


if __name__ == "__main__":
    main()

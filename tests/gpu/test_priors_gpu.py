"""Priors on CUDA: full-size SD-2-inpainting SDS in fp16 at 512 px, a checkpoint folder loaded in
fp16, and the internal prior's full preset in bf16. The SDS step's overhead over the bare SD-2
floor is a speed target, measured by `benchmarks/sds_floor.py` (a timed test flips when anything
else shares the GPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sd_models import build_random_sd2_inpaint, build_tiny_sd_inpaint_pipeline, prior_without_text_encoder

from inpaint3d_core.priors.internal import InternalPriorConfig, train_internal_prior
from inpaint3d_core.priors.stable_diffusion import StableDiffusionInpaintPrior

pytestmark = pytest.mark.gpu
CUDA = torch.device("cuda")


@pytest.fixture(scope="module")
def sd2_prior():
    return prior_without_text_encoder(build_random_sd2_inpaint(CUDA, torch.float16))


def _hole(batch: int, res: int) -> torch.Tensor:
    mask = torch.zeros(batch, 1, res, res, device=CUDA)
    mask[..., res // 4 : res // 2, res // 3 : 2 * res // 3] = 1.0
    return mask


def test_full_size_sd2_sds_gradient_is_finite_and_confined(sd2_prior):
    rendered = torch.rand(2, 3, 512, 512, device=CUDA, requires_grad=True)
    mask = _hole(2, 512)
    out = sd2_prior.sds_loss(rendered, torch.rand(2, 3, 512, 512, device=CUDA), mask, progress=0.3)
    out.loss.backward()
    assert torch.isfinite(out.loss) and out.grad_norm > 0
    assert torch.isfinite(rendered.grad).all()
    assert rendered.grad[mask.expand_as(rendered) == 0].abs().max() == 0
    assert rendered.grad[mask.expand_as(rendered) == 1].abs().sum() > 0


def test_checkpoint_folder_loads_in_fp16_and_samples(tmp_path):
    folder = build_tiny_sd_inpaint_pipeline(tmp_path / "sd")
    prior = StableDiffusionInpaintPrior.from_pretrained(
        str(folder), device=CUDA, prompt="a stone", num_inference_steps=4
    )
    assert prior.dtype == torch.float16
    image = torch.rand(1, 3, 64, 64, device=CUDA)
    mask = _hole(1, 64)
    out = prior.inpaint(image, mask, seed=0)
    assert torch.isfinite(out).all()
    assert torch.equal(out[mask.expand_as(out) == 0], image[mask.expand_as(image) == 0])
    rendered = image.clone().requires_grad_(True)
    prior.sds_loss(rendered, image, mask, progress=0.0).loss.backward()
    assert torch.isfinite(rendered.grad).all() and rendered.grad.abs().sum() > 0


def test_internal_prior_full_preset_trains_in_bf16_and_samples():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:160, :240]
    images, masks = [], []
    for v in range(4):
        stripes = (np.sin(xx / 4.0 + v)[..., None] * np.array([60, 30, 10]) + 120).astype(np.float64)
        images.append((stripes + rng.normal(0, 8, (160, 240, 3))).clip(0, 255).astype(np.uint8))
        mask = np.zeros((160, 240), np.uint8)
        mask[50:100, 80 + 10 * v : 150 + 10 * v] = 1
        masks.append(mask)
    prior = train_internal_prior(images, masks, InternalPriorConfig.preset("full", train_steps=60), device=CUDA)
    assert prior.training["final_loss"] < prior.training["first_loss"]
    image = torch.from_numpy(images[0]).permute(2, 0, 1)[None].float().to(CUDA) / 255
    hole = torch.from_numpy(masks[0])[None, None].float().to(CUDA)
    out = prior.inpaint(image, hole, seed=0)
    assert torch.isfinite(out).all()
    crop = image[..., 32:96, 64:128].clone().requires_grad_(True)
    prior.sds_loss(crop, image[..., 32:96, 64:128], hole[..., 32:96, 64:128], progress=0.5).loss.backward()
    assert torch.isfinite(crop.grad).all() and crop.grad.abs().sum() > 0


def test_graphed_unet_matches_eager_and_training_learns():
    """CUDA-graph replay gives the eager noise prediction; training on device-cut crops lowers the loss."""
    from inpaint3d_core.priors.graphed import GraphedForward
    from inpaint3d_core.priors.internal import build_unet

    config = InternalPriorConfig.preset("full")
    model = build_unet(config).to(CUDA).eval()
    graphed = GraphedForward(model, autocast_bf16=True)
    x = torch.randn(2, 7, 64, 64, device=CUDA)
    t = torch.tensor([10, 500], device=CUDA)
    with torch.no_grad(), torch.autocast("cuda", torch.bfloat16, cache_enabled=False):
        eager = model(x, t).sample.float()
    for _ in range(2):  # capture, then replay with new inputs
        torch.testing.assert_close(graphed(x, t).float(), eager, rtol=2e-2, atol=2e-2)
        x, t = torch.randn_like(x), torch.tensor([700, 30], device=CUDA)
        with torch.no_grad(), torch.autocast("cuda", torch.bfloat16, cache_enabled=False):
            eager = model(x, t).sample.float()
    assert not graphed.failed and len(graphed.graphs) == 1

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (160, 240, 3), dtype=np.uint8) for _ in range(4)]
    masks = [np.zeros((160, 240), np.uint8) for _ in range(4)]
    prior = train_internal_prior(images, masks, config.model_copy(update={"train_steps": 200}), device=CUDA)
    assert prior.training["final_loss"] < prior.training["first_loss"]


def test_graphed_training_step_matches_eager_steps():
    """Replaying the captured bf16 step updates the fp32 masters as eager steps on the same batches do."""
    from inpaint3d_core.priors.internal import build_unet
    from inpaint3d_core.priors.train_step import PriorTrainStep

    config = InternalPriorConfig.preset("full")
    gen = torch.Generator(device=CUDA).manual_seed(0)
    hole = torch.zeros(8, 1, 64, 64, device=CUDA)
    hole[..., 16:48, 16:48] = 1.0

    def batch():
        x = torch.randn(8, 7, 64, 64, device=CUDA, generator=gen)
        t = torch.randint(0, 1000, (8,), device=CUDA, generator=gen)
        return x, t, torch.randn(8, 3, 64, 64, device=CUDA, generator=gen), hole

    batches = [batch() for _ in range(6)]
    masters, losses = [], []
    for graph in (False, True):
        torch.manual_seed(0)
        trainer = PriorTrainStep(build_unet(config).to(CUDA).train(), 2e-4, bf16=True, device=CUDA, graph=graph)
        losses.append(torch.stack([trainer.step(*batch) for batch in batches]).cpu())
        masters.append(trainer.master_state_dict())
    assert trainer._graph is not None and trainer.graph_enabled
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-2, atol=1e-3)
    for name, value in masters[0].items():
        torch.testing.assert_close(masters[1][name], value, rtol=1e-2, atol=1e-4, msg=name)

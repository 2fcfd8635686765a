"""The internal prior trains on the capture's seen pixels, samples, round-trips, and gives exact SDS."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.base import InpaintingPrior
from inpaint3d_core.priors.internal import InternalPrior, InternalPriorConfig, train_internal_prior

SCENE_RGB = (200, 60, 30)


def _flat_scene(views: int = 2, size: int = 40) -> tuple[list[np.ndarray], list[np.ndarray]]:
    images = [np.full((size, size, 3), SCENE_RGB, np.uint8) for _ in range(views)]
    masks = [np.zeros((size, size), np.uint8) for _ in range(views)]
    masks[0][5:15, 5:15] = 1
    return images, masks


def _centre_hole(res: int) -> torch.Tensor:
    mask = torch.zeros(1, 1, res, res)
    mask[..., res // 4 : 3 * res // 4, res // 4 : 3 * res // 4] = 1.0
    return mask


@pytest.fixture(scope="module")
def tiny_prior() -> InternalPrior:
    images, masks = _flat_scene()
    return train_internal_prior(images, masks, InternalPriorConfig.preset("tiny"))


def test_training_learns_the_scene_colour_and_sampling_uses_it():
    images, masks = _flat_scene()
    cfg = InternalPriorConfig.preset("tiny", batch_size=8, learning_rate=3e-3, inference_steps=10)
    target = torch.tensor(SCENE_RGB, dtype=torch.float32).view(1, 3, 1, 1).expand(1, 3, 16, 16) / 255
    hole = _centre_hole(16)
    errors = {}
    for steps in (1, 60):
        prior = train_internal_prior(images, masks, cfg.model_copy(update={"train_steps": steps}))
        out = prior.inpaint(target, hole, seed=0)
        errors[steps] = float((out - target).abs()[hole.expand_as(out) == 1].mean() * 255)
    assert prior.training["final_loss"] < 0.5 * prior.training["first_loss"]
    assert errors[60] < 40 < errors[1]


def test_inpaint_keeps_known_pixels_and_is_seeded(tiny_prior):
    assert isinstance(tiny_prior, InpaintingPrior)
    image = torch.rand(2, 3, 24, 20)
    mask = torch.zeros(2, 1, 24, 20)
    mask[:, :, 6:18, 4:14] = 1.0
    out = tiny_prior.inpaint(image, mask, seed=1)
    known = mask.expand_as(image) == 0
    assert out.shape == image.shape
    assert torch.equal(out[known], image[known])
    assert not torch.allclose(out[~known], image[~known])
    assert torch.equal(tiny_prior.inpaint(image, mask, seed=1), out)
    assert not torch.equal(tiny_prior.inpaint(image, mask, seed=2), out)


def test_bytes_and_file_round_trip(tiny_prior, tmp_path):
    image, mask = torch.rand(1, 3, 16, 16), _centre_hole(16)
    restored = InternalPrior.from_bytes(tiny_prior.to_bytes())
    assert restored.config == tiny_prior.config
    assert restored.training == tiny_prior.training
    assert torch.equal(restored.inpaint(image, mask, seed=0), tiny_prior.inpaint(image, mask, seed=0))
    tiny_prior.save(tmp_path / "prior.safetensors")
    loaded = InternalPrior.load(tmp_path / "prior.safetensors")
    assert torch.equal(loaded.inpaint(image, mask, seed=0), tiny_prior.inpaint(image, mask, seed=0))


def test_loading_wrong_or_missing_weights_is_an_input_error(tmp_path):
    import safetensors.torch

    with pytest.raises(InputError, match="not internal-prior weights"):
        InternalPrior.from_bytes(safetensors.torch.save({"w": torch.zeros(2)}))
    with pytest.raises(InputError, match="missing.safetensors"):
        InternalPrior.load(tmp_path / "missing.safetensors")


class _StubDenoiser(torch.nn.Module):
    """eps_hat = 0.5 * noisy + 0.1 * masked image; records what it was called with."""

    def __init__(self):
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))
        self.calls = []

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> SimpleNamespace:
        self.calls.append((x.detach().clone(), t.clone()))
        return SimpleNamespace(sample=0.5 * x[:, :3] + 0.1 * x[:, 4:7])


def test_sds_gradient_on_pixels_is_weighted_noise_residual_inside_hole():
    """The chosen latent is x = 2 * rendered - 1, so d loss / d rendered = 2 w(t) (eps_hat - eps) * hole."""
    stub = _StubDenoiser()
    prior = InternalPrior(stub, InternalPriorConfig.preset("tiny"))
    rendered = torch.rand(1, 3, 16, 16, requires_grad=True)
    cond = torch.rand(1, 3, 16, 16)
    hole = _centre_hole(16)
    out = prior.sds_loss(rendered, cond, hole, progress=0.4)
    out.loss.backward()

    ((model_input, t),) = stub.calls
    noisy, mask_in, masked_in = model_input[:, :3], model_input[:, 3:4], model_input[:, 4:7]
    assert int(t[0]) == out.timestep
    torch.testing.assert_close(mask_in, hole)
    torch.testing.assert_close(masked_in, (cond * 2 - 1) * (1 - hole))
    alpha_bar = prior.alphas_cumprod[out.timestep]
    clean = rendered.detach() * 2 - 1
    eps = (noisy - alpha_bar.sqrt() * clean) / (1 - alpha_bar).sqrt()
    eps_hat = 0.5 * noisy + 0.1 * masked_in
    expected = 2 * (1 - alpha_bar) * (eps_hat - eps) * hole
    torch.testing.assert_close(rendered.grad, expected, rtol=1e-4, atol=1e-5)
    assert rendered.grad[hole.expand_as(rendered) == 0].abs().max() == 0
    assert float(out.grad_norm) == pytest.approx(float(expected.norm()) / 2, rel=1e-4)


def test_sds_rejects_sizes_the_unet_cannot_take(tiny_prior):
    with pytest.raises(ValueError, match="multiples of 2"):
        tiny_prior.sds_loss(torch.rand(1, 3, 15, 16), torch.rand(1, 3, 15, 16), torch.ones(1, 1, 15, 16), 0.0)


def test_presets_scale_and_accept_overrides():
    tiny, quick, full = (InternalPriorConfig.preset(n) for n in ("tiny", "quick", "full"))
    assert tiny.train_steps < quick.train_steps < full.train_steps
    assert quick.resolution == 32 and full.precision == "bfloat16"
    assert InternalPriorConfig.preset("quick", train_steps=7).train_steps == 7

"""SDS: the gradient that reaches the clean latent is exactly w(t)(eps_hat - eps), inside the hole only."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from inpaint3d_core.priors.config import SDSConfig
from inpaint3d_core.priors.sds import (
    gate_gradient_to_hole,
    hole_at_resolution,
    sample_timestep,
    score_distillation,
    surrogate_loss,
    t_max_at,
)


def _cosine_alphas_cumprod(n: int = 1000) -> torch.Tensor:
    steps = torch.arange(n + 1, dtype=torch.float64) / n
    f = torch.cos((steps + 0.008) / 1.008 * math.pi / 2) ** 2
    return (f[1:] / f[0]).clamp(1e-4, 1.0).float()


def _hole(b: int, h: int, w: int) -> torch.Tensor:
    hole = torch.zeros(b, 1, h, w)
    hole[:, :, 2:6, 3:7] = 1.0
    return hole


def _stub_denoiser(noisy: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Depends on its input and on t, so a wrong noisy latent or timestep would change eps_hat."""
    return 0.5 * noisy + 0.001 * t.view(-1, 1, 1, 1).float()


def test_gradient_on_clean_latent_is_weighted_noise_residual_inside_hole():
    alphas = _cosine_alphas_cumprod()
    latent = torch.randn(2, 4, 8, 8, requires_grad=True)
    hole = _hole(2, 8, 8)
    step = score_distillation(
        latent, hole, _stub_denoiser, alphas, SDSConfig(), progress=0.3, generator=torch.Generator().manual_seed(1)
    )
    step.loss.backward()

    ab = alphas[step.timestep]
    noisy = ab.sqrt() * latent.detach() + (1 - ab).sqrt() * step.noise
    t = torch.full((2,), step.timestep)
    expected = (1 - ab) * (_stub_denoiser(noisy, t) - step.noise) * hole
    assert float(step.weight) == pytest.approx(float(1 - ab))
    torch.testing.assert_close(latent.grad, expected)
    assert latent.grad[hole.expand_as(latent) == 0].abs().max() == 0
    assert latent.grad[hole.expand_as(latent) == 1].abs().min() > 0
    assert float(step.grad_norm) == pytest.approx(float(expected.norm()), rel=1e-5)
    # the noised-latent surrogate would have scaled the gradient by sqrt(alpha_bar): not what we ship
    assert not torch.allclose(latent.grad, ab.sqrt() * expected)


def test_nan_gradients_are_zeroed_and_clamp_applies():
    alphas = _cosine_alphas_cumprod()
    latent = torch.zeros(1, 3, 8, 8, requires_grad=True)

    def half_nan(noisy: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = torch.full_like(noisy, 100.0)
        out[:, 0] = float("nan")
        return out

    step = score_distillation(latent, torch.ones(1, 1, 8, 8), half_nan, alphas, SDSConfig(grad_clip=0.25), progress=0.0)
    step.loss.backward()
    assert torch.isfinite(latent.grad).all()
    assert latent.grad[:, 0].abs().max() == 0
    assert latent.grad[:, 1:].max() == pytest.approx(0.25)


def test_timesteps_stay_in_range_and_anneal_toward_small_t():
    cfg = SDSConfig(t_min=0.02, t_max_start=0.98, t_max_end=0.5, anneal="linear")
    gen = torch.Generator().manual_seed(0)
    early = [sample_timestep(cfg, 1000, 0.0, gen) for _ in range(300)]
    late = [sample_timestep(cfg, 1000, 1.0, gen) for _ in range(300)]
    assert min(early) >= 20 and max(early) <= 980 and max(early) > 900
    assert min(late) >= 20 and max(late) <= 500 and max(late) > 450
    assert t_max_at(cfg, 0.5) == pytest.approx(0.74)
    sqrt_cfg = cfg.model_copy(update={"anneal": "sqrt"})
    assert t_max_at(sqrt_cfg, 0.25) == pytest.approx(0.98 - 0.48 * 0.5)
    assert t_max_at(cfg.model_copy(update={"anneal": "none"}), 1.0) == 0.98


def test_config_rejects_inverted_range():
    with pytest.raises(ValidationError):
        SDSConfig(t_min=0.6, t_max_end=0.5)


def test_hole_downsampling_keeps_every_touched_cell():
    mask = torch.zeros(1, 1, 16, 16)
    mask[0, 0, 9, 2] = 1.0
    low = hole_at_resolution(mask, (2, 2))
    assert low[0, 0].tolist() == [[0.0, 0.0], [1.0, 0.0]]
    assert torch.equal(hole_at_resolution(mask, (16, 16)), mask)


def test_gate_passes_values_but_only_hole_gradients():
    image = torch.rand(1, 3, 8, 8, requires_grad=True)
    hole = _hole(1, 8, 8)
    gated = gate_gradient_to_hole(image, hole)
    torch.testing.assert_close(gated, image)
    gated.sum().backward()
    assert torch.equal(image.grad, hole.expand_as(image))


def test_surrogate_gradient_equals_given_gradient():
    latent = torch.randn(2, 4, 4, 4, requires_grad=True)
    grad = torch.randn(2, 4, 4, 4)
    surrogate_loss(latent, grad).backward()
    torch.testing.assert_close(latent.grad, grad)

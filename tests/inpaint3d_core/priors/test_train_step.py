"""The prior's optimiser step: float32 is plain AdamW; bf16 keeps fp32 masters that the network copies."""

from __future__ import annotations

import torch

from inpaint3d_core.priors.internal import InternalPriorConfig, build_unet
from inpaint3d_core.priors.train_step import PriorTrainStep, hole_loss

CPU = torch.device("cpu")


def _batches(count: int, res: int = 16) -> list[tuple[torch.Tensor, ...]]:
    gen = torch.Generator().manual_seed(0)
    hole = torch.zeros(4, 1, res, res)
    hole[..., 4:12, 4:12] = 1.0
    return [
        (torch.randn(4, 7, res, res, generator=gen), torch.randint(0, 1000, (4,), generator=gen),
         torch.randn(4, 3, res, res, generator=gen), hole)
        for _ in range(count)
    ]  # fmt: skip


def _unet() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_unet(InternalPriorConfig.preset("tiny")).train()


def test_float32_steps_are_plain_adamw_on_the_model():
    batches = _batches(3)
    reference = _unet()
    optimiser = torch.optim.AdamW(reference.parameters(), lr=1e-3)
    for x, t, noise, hole in batches:
        optimiser.zero_grad(set_to_none=True)
        hole_loss(reference(x, t).sample, noise, hole).backward()
        torch.nn.utils.clip_grad_norm_(reference.parameters(), 1.0)
        optimiser.step()
    model = _unet()
    trainer = PriorTrainStep(model, 1e-3, bf16=False, device=CPU)
    for batch in batches:
        trainer.step(*batch)
    for name, value in reference.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value, rtol=0, atol=0, msg=name)


def test_bf16_network_follows_fp32_masters_and_learns():
    batches = _batches(1) * 30
    model = _unet()
    trainer = PriorTrainStep(model, 3e-3, bf16=True, device=CPU)
    losses = [float(trainer.step(*batch)) for batch in batches]
    assert losses[-1] < 0.7 * losses[0]
    assert all(p.dtype == torch.bfloat16 for p in model.parameters())
    masters = trainer.master_state_dict()
    assert all(v.dtype == torch.float32 for v in masters.values())
    for name, param in model.named_parameters():
        assert torch.equal(param, masters[name].to(torch.bfloat16)), name
    # the masters hold updates smaller than bf16 can represent next to the weight
    assert any(not torch.equal(masters[n], p.float()) for n, p in model.named_parameters())

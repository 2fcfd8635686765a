"""The compiled field path gives the eager numbers, and falls back to eager when compiling fails."""

from __future__ import annotations

import pytest
import torch

from inpaint3d_core.nerf import compiled
from inpaint3d_core.nerf.compiled import CompiledOrEager, wants_compile
from inpaint3d_core.nerf.config import FieldConfig
from inpaint3d_core.nerf.field import RadianceField

TINY = FieldConfig(
    levels=4, log2_table_size=10, base_resolution=4, max_resolution=64, hidden_dim=16, color_hidden_dim=16,
    sh_degree=2, appearance_dim=4, num_views=3,
)  # fmt: skip


def _batch(n: int = 2048):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 3, generator=g) * 3 - 1.5
    d = torch.nn.functional.normalize(torch.randn(n, 3, generator=g), dim=-1)
    return x, d, torch.randint(0, 3, (n,), generator=g)


def _outputs(field: RadianceField, x, d, ids):
    field.zero_grad(set_to_none=True)
    rgb, sigma = field(x, d, ids)
    (rgb.square().sum() + sigma.sum()).backward()
    return rgb.detach(), sigma.detach(), field.encoding.table.grad.clone(), field.density(x[:100]).detach()


def test_auto_compiles_on_cuda_only():
    assert wants_compile("auto", torch.device("cuda"))
    assert not wants_compile("auto", torch.device("cpu"))
    assert wants_compile("on", torch.device("cpu")) and not wants_compile("off", torch.device("cuda"))


def test_traced_field_matches_eager_values_and_gradients():
    torch.manual_seed(0)
    field = RadianceField(TINY)
    batch = _batch()
    eager = _outputs(field, *batch)
    assert field.use_compile("on", torch.device("cpu"), backend="eager")
    traced = _outputs(field, *batch)
    smaller = field(batch[0][:333], batch[1][:333], None)[0]  # another batch size, no appearance ids
    assert smaller.shape == (333, 3)
    for a, b in zip(eager, traced, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_compile_failure_falls_back_to_eager(monkeypatch):
    def broken(*_args, **_kwargs):
        raise torch._dynamo.exc.TorchDynamoException("no C++ compiler")

    torch.manual_seed(0)
    field = RadianceField(TINY)
    batch = _batch(256)
    eager = _outputs(field, *batch)
    monkeypatch.setattr(compiled.torch, "compile", lambda fn, **_: broken)
    with pytest.warns(UserWarning, match="running eager"):
        assert field.use_compile("on", torch.device("cpu"))
        fallback = _outputs(field, *batch)
    for a, b in zip(eager, fallback, strict=True):
        torch.testing.assert_close(a, b)
    assert not field._forward_impl.active and "no C++ compiler" in field._forward_impl.failed


def test_compile_unavailable_at_wrap_time_runs_eager(monkeypatch):
    def unavailable(fn, **_):
        raise RuntimeError("torch.compile is not supported on this Python")

    monkeypatch.setattr(compiled.torch, "compile", unavailable)
    with pytest.warns(UserWarning, match="not supported"):
        wrapped = CompiledOrEager(lambda a: a + 1, "probe")
    assert not wrapped.active and wrapped(1) == 2

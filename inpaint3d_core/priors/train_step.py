"""One optimiser step of the internal prior: bf16 weights with fp32 master copies, CUDA-graphed.

Why: under autocast every GroupNorm of the diffusers UNet runs in float32, so each block casts
its activations bf16 -> fp32 -> bf16 and moves twice the bytes; on an H200 casts and fp32
GroupNorm were ~40% of a 256-crop step (benchmarks/field_speed.py, "prior batch" rows). Keeping
the network itself in bf16 removes both; the optimiser works on fp32 master copies of the
weights, so small AdamW updates are not rounded away (bf16 has 8 mantissa bits). On a GPU the
whole step (forward, backward, gradient copy, clip, AdamW, weight copy) is then recorded once as
a CUDA graph and replayed, so the host's ~2000 kernel launches per step no longer bound it.

`PriorTrainStep(model, learning_rate, bf16, device)` owns the optimiser; `step(x, t, noise, hole)` does one
update and returns the loss as a 0-d device tensor (the caller reads losses in batches).
float32 configs train exactly as plain eager AdamW on the model's own parameters. If graph
capture fails (an op that cannot be captured, an old driver) it warns once and stays eager.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

# Eager steps before capture: AdamW and cuDNN allocate their state and pick kernels on the
# first calls, which must not happen inside the capture. They are real training steps.
_WARMUP_STEPS = 3


def hole_loss(pred: torch.Tensor, noise: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Mean squared noise error over the hole's pixels (outside it the noise is not the model's to guess)."""
    return ((pred.float() - noise) ** 2 * hole).sum() / (3 * hole.sum()).clamp_min(1.0)


class PriorTrainStep:
    """AdamW steps of the prior's UNet on (model input, timesteps, noise, hole) batches."""

    def __init__(
        self,
        model: nn.Module,
        learning_rate: float,
        bf16: bool,
        device: torch.device,
        graph: bool | None = None,
        max_grad_norm: float = 1.0,
    ):
        self.model = model
        self.bf16 = bf16
        self.max_grad_norm = max_grad_norm
        self.params = [p for p in model.parameters() if p.requires_grad]
        cuda = device.type == "cuda"
        if bf16:
            # fp32 masters are what AdamW updates; the bf16 network is a copy refreshed each step
            self.master = [nn.Parameter(p.detach().float().clone()) for p in self.params]
            for m in self.master:
                m.grad = torch.zeros_like(m)
            model.to(torch.bfloat16)
            self.params = [p for p in model.parameters() if p.requires_grad]
        else:
            self.master = self.params
        self.optimiser = torch.optim.AdamW(self.master, lr=learning_rate, capturable=cuda)
        self.graph_enabled = cuda if graph is None else (graph and cuda)
        self.dtype = torch.bfloat16 if bf16 else torch.float32
        self._steps = 0
        self._graph: torch.cuda.CUDAGraph | None = None
        self._static: tuple[torch.Tensor, ...] = ()
        self._static_loss: torch.Tensor | None = None

    def master_state_dict(self) -> dict[str, torch.Tensor]:
        """The fp32 weights by name (the model's own state for float32 training)."""
        names = [n for n, p in self.model.named_parameters() if p.requires_grad]
        state = {k: v.detach().float() for k, v in self.model.state_dict().items()}
        state.update({n: m.detach() for n, m in zip(names, self.master, strict=True)})
        return state

    def _update(self, x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        pred = self.model(x.to(self.dtype), t).sample
        loss = hole_loss(pred, noise, hole)
        loss.backward()
        if self.bf16:
            torch._foreach_copy_([m.grad for m in self.master], [p.grad for p in self.params])
        torch.nn.utils.clip_grad_norm_(self.master, self.max_grad_norm)
        self.optimiser.step()
        if self.bf16:
            with torch.no_grad():
                torch._foreach_copy_(self.params, self.master)
        return loss.detach()

    def _eager(self, *batch: torch.Tensor) -> torch.Tensor:
        for p in self.params:
            p.grad = None
        return self._update(*batch)

    def step(self, x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        self._steps += 1
        if not self.graph_enabled:
            return self._eager(x, t, noise, hole)
        if self._steps <= _WARMUP_STEPS:
            side = torch.cuda.Stream()  # warm-up off the default stream, as capture requires
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                loss = self._eager(x, t, noise, hole)
            torch.cuda.current_stream().wait_stream(side)
            return loss
        if self._graph is None:
            try:
                self._capture(x, t, noise, hole)
            except RuntimeError as exc:
                self.graph_enabled = False
                warnings.warn(f"internal prior training: graph capture failed ({exc}); running eager", stacklevel=2)
                torch.cuda.synchronize()
                return self._eager(x, t, noise, hole)
        for static, value in zip(self._static, (x, t, noise, hole), strict=True):
            static.copy_(value)
        self._graph.replay()
        return self._static_loss.clone()

    def _capture(self, *batch: torch.Tensor) -> None:
        static = tuple(b.clone() for b in batch)
        for p in self.params:
            p.grad = None
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            loss = self._update(*static)
        self._graph, self._static, self._static_loss = graph, static, loss

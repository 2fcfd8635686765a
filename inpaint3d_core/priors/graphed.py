"""CUDA graphs for the internal prior's UNet: one replay instead of hundreds of kernel launches.

Why: the diffusers UNet at 64 px is tiny work for a GPU, but its forward pass is ~hundreds of
small kernels issued one by one from Python, so the SDS term of a joint iteration took 46.9 ms on
an H200, almost all of it launch overhead. A CUDA graph records the launches once for a fixed
input shape and replays them in one call: the SDS term then took ~6 ms per iteration (the
100-view 1008x567 end-to-end run, benchmarks/e2e_gpu.py).

`GraphedForward` (no gradients: SDS noise predictions and sampling) keeps one graph per input
shape and is plain eager on the CPU. If capture fails (an op that cannot be captured, an old
driver) it warns once and runs eager. Training steps are not graphed: capturing forward and
backward (`torch.cuda.make_graphed_callables`) measured 133 ms per 256-crop step against 147 ms
eager, too little for the capture's constraints, so that time is mostly the GPU's own work.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn


class _SampleOnly(nn.Module):
    """`model(x, t).sample` as a module whose output is a plain tensor (graphs need tensors)."""

    def __init__(self, model: nn.Module, autocast_bf16: bool):
        super().__init__()
        self.model = model
        self.autocast_bf16 = autocast_bf16

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # cache_enabled=False: autocast's weight-cast cache must not outlive a graph capture
        with torch.autocast(x.device.type, torch.bfloat16, enabled=self.autocast_bf16, cache_enabled=False):
            return self.model(x, t).sample


class GraphedForward:
    """`model(x, t)` without gradients, replayed from a CUDA graph per (x shape, t shape)."""

    def __init__(self, model: nn.Module, autocast_bf16: bool):
        self.module = _SampleOnly(model, autocast_bf16)
        self.graphs: dict[tuple, tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        self.failed = False

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cuda" or self.failed:
            return self.module(x, t)
        key = (tuple(x.shape), tuple(t.shape), x.dtype)
        if key not in self.graphs:
            try:
                self.graphs[key] = self._capture(x, t)
            except RuntimeError as exc:
                self.failed = True
                warnings.warn(f"internal prior: CUDA graph capture failed ({exc}); running eager", stacklevel=2)
                return self.module(x, t)
        graph, static_x, static_t, static_out = self.graphs[key]
        static_x.copy_(x)
        static_t.copy_(t)
        graph.replay()
        return static_out.clone()

    def _capture(self, x: torch.Tensor, t: torch.Tensor):
        static_x, static_t = x.clone(), t.clone()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # warm-up off the default stream, as capture requires
            for _ in range(2):
                self.module(static_x, static_t)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = self.module(static_x, static_t)
        return graph, static_x, static_t, static_out

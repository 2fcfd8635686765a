"""The field's hot functions under `torch.compile` on CUDA, with a clean eager fallback.

Why: the pure-torch hash grid runs dozens of small kernels per call and materialises
(points x levels x 8 corners) index and weight tensors; inductor fuses them into a few kernels
(forward + backward on 2^20 samples at full-preset sizes: 44.9 ms eager, 8.8 ms compiled on an
H200). On the CPU, compiling needs a C++ toolchain and costs more time than the toy sizes run
there, so "auto" compiles on CUDA only. Compilation is lazy (first call) and may fail on an
unusual install (no compiler, an unsupported Python); the fallback then runs the same eager
code, warns once and keeps running, so a run never dies for want of a faster kernel.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

from inpaint3d_core.nerf.config import CompileMode


def wants_compile(mode: CompileMode, device: torch.device) -> bool:
    """'on' always, 'auto' on CUDA only, 'off' never."""
    return mode == "on" or (mode == "auto" and device.type == "cuda")


class CompiledOrEager:
    """Calls `torch.compile(fn)`; if compiling fails, warns once and calls `fn` from then on.

    Shapes are dynamic (batches of rays and samples vary from call to call), so one graph per
    grad mode serves every batch size instead of recompiling for each. `backend` is inductor
    (generated kernels) in use; tests pass "eager" to check tracing without code generation.
    """

    def __init__(self, fn: Callable, name: str, backend: str = "inductor"):
        self.eager = fn
        self.name = name
        self.failed: str | None = None
        try:
            self._compiled = torch.compile(fn, dynamic=True, backend=backend)
        except Exception as exc:  # torch.compile itself unavailable on this install
            self._fall_back(exc)

    def _fall_back(self, exc: Exception) -> None:
        self.failed = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        self._compiled = None
        warnings.warn(f"{self.name}: torch.compile unavailable ({self.failed}); running eager", stacklevel=3)

    @property
    def active(self) -> bool:
        return self._compiled is not None

    def __call__(self, *args, **kwargs):
        if self._compiled is None:
            return self.eager(*args, **kwargs)
        try:
            return self._compiled(*args, **kwargs)
        except torch._dynamo.exc.TorchDynamoException as exc:
            self._fall_back(exc)
            return self.eager(*args, **kwargs)

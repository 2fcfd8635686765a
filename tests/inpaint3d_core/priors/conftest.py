"""Prior tests run toy-size models, whose time is per-op overhead rather than arithmetic."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One thread is faster here and does not fight other processes for the cores; the previous
    setting is restored so tests elsewhere keep theirs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

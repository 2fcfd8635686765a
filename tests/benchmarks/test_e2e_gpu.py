"""The end-to-end GPU benchmark builds the job the CLI would, and skips cleanly without CUDA."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from benchmark_scripts import load_benchmark

from flows.job import build_job
from stages.pipeline import PIPELINE

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "e2e_gpu.py"


@pytest.fixture(scope="module")
def e2e():
    return load_benchmark("e2e_gpu")


def test_job_is_the_spinnerf_job_with_overrides(e2e, tmp_path):
    values = e2e.job_values("cap", str(tmp_path / "s.zarr"), "full", ["inpaint.steps_scale=0.5"], n_test=40)
    job = build_job(list(PIPELINE), values)
    assert job.ingest.protocol == "spinnerf" and job.ingest.n_gt == 40 and job.ingest.preset == "full"
    assert job.inpaint.preset == "full" and job.inpaint.steps_scale == 0.5


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only path")
def test_without_cuda_it_says_so(e2e, capsys):
    e2e.main([])
    assert "skipped, no CUDA GPU" in capsys.readouterr().out

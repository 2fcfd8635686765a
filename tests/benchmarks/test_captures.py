"""benchmarks/captures.py: the SPIn-NeRF-shaped capture from the command line."""

from __future__ import annotations

import re

import pytest
from benchmark_scripts import load_benchmark
from typer.testing import CliRunner


@pytest.fixture(scope="module")
def captures():
    return load_benchmark("captures")


def test_make_spinnerf_writes_the_capture_and_prints_its_numbers(captures, tmp_path):
    out = tmp_path / "capture"
    result = CliRunner().invoke(captures.app, ["make-spinnerf", "--size", "cpu", "--seed", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "25 views at 160x90 (10 test, 15 train), seed 2" in result.output
    assert re.search(r"generation \d+\.\d s with 1 worker\(s\) \(summed over views: render", result.output)
    fraction = float(re.search(r"unseen fraction of the test masks: (\d\.\d+)", result.output).group(1))
    assert 0.0 < fraction < 1.0
    assert (out / "poses_bounds.npy").is_file() and len(list((out / "images_4" / "test_unseen").iterdir())) == 10
    assert "--protocol spinnerf --set ingest.n_gt=10" in result.output


def test_unknown_size_is_a_usage_error(captures, tmp_path):
    result = CliRunner().invoke(captures.app, ["make-spinnerf", "--size", "huge", "--out", str(tmp_path / "c")])
    assert result.exit_code == 2 and "--size" in result.output
    assert not (tmp_path / "c").exists()
    assert CliRunner().invoke(captures.app, ["unseen", "--size", "huge"]).exit_code == 2

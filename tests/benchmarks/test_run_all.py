"""`make bench` (benchmarks/run_all.py): the scripts it names exist, one runs through it and prints its table."""

from __future__ import annotations

from benchmark_scripts import BENCHMARKS, load_benchmark

run_all = load_benchmark("run_all")


def test_every_quick_run_is_a_benchmark_script(tmp_path):
    for name in run_all.quick_runs(tmp_path, with_real=True):
        assert (BENCHMARKS / f"{name}.py").is_file(), name


def test_a_benchmark_runs_through_the_runner_and_its_table_is_printed(capfd):
    assert run_all.main(["--only", "masks_iou"]) == 0
    out = capfd.readouterr().out
    assert "propagation without SAM" in out and "masks_iou" in out and "ok" in out

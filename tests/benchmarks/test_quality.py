"""The quality benchmark's table, margins and job from fake run records (the runs need the inpaint stage)."""

from __future__ import annotations

import json

import pytest
from benchmark_scripts import load_benchmark

from flows.job import build_job
from stages.pipeline import PIPELINE


@pytest.fixture(scope="module")
def quality():
    return load_benchmark("quality")


def _record(method, seed, bbox, unseen, l1, seconds=10.0):
    return {
        "method": method,
        "seed": seed,
        "seconds": {"inpaint": seconds},
        "mean": {
            "bbox": {"psnr": bbox, "ssim": 0.5},
            "masked": {"psnr": bbox - 1},
            "seen": {"psnr": bbox + 2},
            "unseen": {"psnr": unseen},
        },
        "consistency": {"photometric_l1": l1},
    }


def test_table_means_spreads_best_marks_and_absent_columns(quality):
    results = [
        _record("joint", 0, 20.0, 18.0, 0.02),
        _record("joint", 1, 22.0, 19.0, 0.04),
        _record("recon_only", 0, 21.0, 17.0, 0.10),
        _record("recon_only", 1, 21.0, 17.0, 0.12),
        {"method": "classical", "seed": 0, "seconds": {"inpaint": 5.0}, "mean": {}, "consistency": None},
    ]
    table = quality.build_table(results).splitlines()
    assert table[0] == "seeds: [0, 1]"
    header = table[1].split(" | ")
    assert header[1] == "bbox PSNR" and "unseen PSNR" in header and "consistency L1 ↓" in header
    assert "bbox LPIPS ↓" not in table[1]  # no run has LPIPS: no column
    joint = dict(zip(header, table[3].split(" | "), strict=True))
    assert joint["bbox PSNR"] == "21.00 ± 1.41*"  # tie on the mean: the first listed keeps the mark
    assert joint["unseen PSNR"] == "18.50 ± 0.71*"
    assert joint["consistency L1 ↓"] == "0.0300 ± 0.0141*"  # lowest error is best
    recon = dict(zip(header, table[4].split(" | "), strict=True))
    assert recon["bbox PSNR"] == "21.00 ± 0.00" and recon["consistency L1 ↓"] == "0.1100 ± 0.0141"
    assert table[5].count("n/a") == len(header) - 2 and table[5].endswith("5.0 ± 0.0 |")


def test_margins_are_per_seed_differences_in_the_better_direction(quality):
    results = [
        _record("joint", 0, 20.0, 18.0, 0.02),
        _record("joint", 1, 22.0, 19.0, 0.04),
        _record("recon_only", 0, 21.0, 17.0, 0.10),
        _record("recon_only", 1, 21.0, 17.5, 0.12),
        _record("classical", 1, 19.0, 16.0, 0.01),  # only seed 1: compared on seed 1 alone
    ]
    assert quality.margins(results, "joint", "bbox PSNR") == {"recon_only": 0.0, "classical": 3.0}
    assert quality.margins(results, "joint", "unseen PSNR") == pytest.approx({"recon_only": 1.25, "classical": 3.0})
    assert quality.margins(results, "joint", "consistency L1") == pytest.approx(
        {"recon_only": 0.08, "classical": -0.03}
    )


def test_table_from_run_records_written_per_seed_and_method(quality, tmp_path, capsys):
    for method, seed, bbox in (("recon_only", 1, 19.0), ("joint", 0, 20.0), ("joint", 1, 22.0)):
        (tmp_path / f"seed{seed}").mkdir(exist_ok=True)
        (tmp_path / f"seed{seed}" / f"{method}.json").write_text(json.dumps(_record(method, seed, bbox, 15.0, 0.02)))
    records = quality.read_records(tmp_path)
    assert [(r["method"], r["seed"]) for r in records] == [("joint", 0), ("joint", 1), ("recon_only", 1)]
    quality.main(["--table-from", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "seeds: [0, 1]" and lines[3].startswith("| joint | 21.00 ± 1.41*")
    with pytest.raises(SystemExit, match="no seed"):
        quality.read_records(tmp_path / "empty")


def test_joint_variants_keep_their_own_rows(quality):
    """Every joint variant's metrics say method "joint": the record keeps the benchmark's name."""
    seed_info = {"seed": 0, "unseen_fraction": 0.5, "shared_s": {"ingest": 1.0}}
    metrics = {"method": "joint", "mean": {"bbox": {"psnr": 20.0}}, "consistency": None}
    records = [
        quality.run_record(name, seed_info, {"inpaint": 3.0}, {}, metrics) for name in ("joint", "joint_whole_mask")
    ]
    assert [r["method"] for r in records] == ["joint", "joint_whole_mask"]
    assert records[1]["inpaint_method"] == "joint" and records[1]["seconds"] == {"ingest": 1.0, "inpaint": 3.0}
    rows = quality.build_table(records).splitlines()[3:]
    assert [row.split(" | ")[0] for row in rows] == ["| joint", "| joint_whole_mask"]


def test_every_method_is_a_valid_job_on_a_spinnerf_capture(quality, tmp_path):
    values = quality.job_values(tmp_path / "capture", tmp_path / "s.zarr", "quick", 10, ["inpaint.steps_scale=0.5"])
    for method, options in quality.METHODS.items():
        job = build_job(list(PIPELINE), {**values, "inpaint": {**values.get("inpaint", {}), **options}})
        inpaint = job.stage_config("inpaint")
        assert inpaint.steps_scale == 0.5 and inpaint.method == options["method"], method
        assert job.stage_config("ingest").protocol == "spinnerf" and job.stage_config("ingest").n_gt == 10
    assert quality.METHODS["joint_whole_mask"]["sds_region"] == "mask"
    assert quality.METHODS["joint_no_depth"]["depth_supervision"] is False

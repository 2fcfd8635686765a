"""The quality benchmark's table from fake per-seed results (the runs themselves need the inpaint stage)."""

from __future__ import annotations

import pytest
from benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def quality():
    return load_benchmark("quality")


def _record(method, seed, masked, l1, seconds=10.0):
    return {
        "method": method,
        "seed": seed,
        "seconds": seconds,
        "mean": {"masked": {"psnr": masked}, "bbox": {"psnr": masked + 1, "ssim": 0.5}, "full": {"psnr": 30.0}},
        "consistency": {"photometric_l1": l1},
    }


def test_table_means_spreads_and_best_marks(quality):
    results = [
        _record("joint", 0, 20.0, 0.02),
        _record("joint", 1, 22.0, 0.04),
        _record("per_view", 0, 21.0, 0.10),
        _record("per_view", 1, 21.0, 0.12),
        {"method": "recon_only", "seed": 0, "seconds": 5.0, "mean": {}, "consistency": None},
    ]
    table = quality.build_table(results).splitlines()
    assert table[0] == "seeds: [0, 1]"
    assert table[1].startswith("| method | masked PSNR |") and "consistency L1 (lower better)" in table[1]
    joint = table[3].split(" | ")
    assert joint[0] == "| joint"
    assert joint[1] == "21.00 ± 1.41*"  # tie on the mean with per_view: the first listed keeps the mark
    assert joint[5] == "0.0300 ± 0.0141*"  # lowest consistency error is best
    per_view = table[4].split(" | ")
    assert per_view[1] == "21.00 ± 0.00" and per_view[5] == "0.1100 ± 0.0141"
    assert table[5].count("n/a") == 5 and table[5].endswith("5.00 ± 0.00 |")


def test_overrides_parse_json_values(quality):
    assert quality._parse_overrides(["steps_scale=0.5", "prior=internal", "flag=true"]) == {
        "steps_scale": 0.5,
        "prior": "internal",
        "flag": True,
    }
    with pytest.raises(SystemExit):
        quality._parse_overrides(["novalue"])


def test_table_from_run_records_written_per_seed_and_method(quality, tmp_path, capsys):
    import json

    for method, seed, masked in (("per_view", 1, 19.0), ("joint", 0, 20.0), ("joint", 1, 22.0)):
        (tmp_path / f"seed{seed}").mkdir(exist_ok=True)
        (tmp_path / f"seed{seed}" / f"{method}.json").write_text(json.dumps(_record(method, seed, masked, 0.02)))
    records = quality.read_records(tmp_path)
    assert [(r["method"], r["seed"]) for r in records] == [("joint", 0), ("joint", 1), ("per_view", 1)]
    quality.main(["--table-from", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "seeds: [0, 1]" and lines[3].startswith("| joint | 21.00 ± 1.41*")
    with pytest.raises(SystemExit, match="no seed"):
        quality.read_records(tmp_path / "empty")

"""The comparison page: the settings that differ, metrics side by side with the best in bold, the
same views rendered by every run."""

from __future__ import annotations

import numpy as np

from inpaint3d_core.report_compare import CompareEntry, CompareView, differing, flatten, render_comparison_html


def _entry(label: str, method: str, masked_psnr: float, l1: float, tint: int) -> CompareEntry:
    metrics = {
        "method": method,
        "mean": {"masked": {"psnr": masked_psnr}},
        "consistency": {"photometric_l1": l1},
        "task": {"task": "removal", "opacity_coverage": 0.9},
    }
    settings = flatten({"method": method, "preset": "quick", "weights": {"sds": 0.05 if method == "joint" else 0.0}})
    renders = {"view_000": np.full((36, 48, 3), tint, np.uint8)}
    return CompareEntry(label, settings, metrics, renders, report_href=f"{label}/report.html")


def test_flatten_and_differing():
    assert flatten({"a": 1, "w": {"sds": 0.1}}) == {"a": "1", "w.sds": "0.1"}
    entries = [_entry("a", "joint", 18.0, 0.02, 10), _entry("b", "classical", 17.0, 0.01, 200)]
    assert differing(entries) == ["method", "weights.sds"]


def test_comparison_page_sections_best_values_and_views():
    entries = [_entry("joint-run", "joint", 18.5, 0.0210, 10), _entry("classical-run", "classical", 17.25, 0.0150, 200)]
    region = np.zeros((36, 48), bool)
    region[10:20, 10:25] = True
    view = CompareView("view_000", np.zeros((36, 48, 3), np.uint8), region, np.zeros((36, 48, 3), np.uint8))
    page = render_comparison_html("cmp", entries, [view])
    for section in ("runs", "settings", "metrics", "views"):
        assert f"<section id='{section}'>" in page
    assert "<b>18.50</b>" in page and "17.25" in page and "<b>17.25</b>" not in page  # PSNR: higher wins
    assert "<b>0.0150</b>" in page and "<b>0.0210</b>" not in page  # L1: lower wins
    assert "weights.sds" in page and ">preset<" not in page  # only the settings that differ
    assert "href='joint-run/report.html'" in page
    assert page.count("<figcaption>zoom: ") == 4  # captured, ground truth and both runs
    assert "src='http" not in page

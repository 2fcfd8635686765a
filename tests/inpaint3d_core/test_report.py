"""The HTML report embeds everything it shows and states missing metrics honestly."""

from __future__ import annotations

import base64
import re
import warnings

import imageio.v3 as iio
import numpy as np

from inpaint3d_core.report import ReportContent, Still, metrics_rows, plot_losses, plot_per_view, render_html

PER_VIEW = [
    {"view": 0, "name": "view_000", "role": "test", "full": {"psnr": 30.0, "ssim": 0.9}, "bbox": {"psnr": 20.0}},
    {"view": 1, "name": "view_001", "role": "test", "full": {"psnr": 28.0, "ssim": 0.8}},
]


def _embedded(page: str, mime: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(rf"data:{mime};base64,([A-Za-z0-9+/=]+)", page)]


def test_plots_are_png():
    assert iio.imread(plot_per_view(PER_VIEW)).ndim == 3
    assert iio.imread(plot_losses({"rgb": np.geomspace(1, 0.01, 50), "sds": np.linspace(0, 1, 50)})).ndim == 3
    assert plot_per_view([]) is None and plot_losses({}) is None
    perfect = [{"view": 0, "full": {"psnr": float("inf")}, "bbox": {"psnr": float("inf")}}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert iio.imread(plot_per_view(PER_VIEW + perfect)).ndim == 3


def test_report_embeds_stills_videos_plots_and_tables():
    still = np.zeros((8, 8, 3), np.uint8)
    still[2:4] = 200
    content = ReportContent(
        title="scene <1>",
        summary={"method": "joint"},
        mean_metrics={"full": {"psnr": 29.0, "ssim": 0.85}, "bbox": {"psnr": 20.0}},
        per_view=PER_VIEW,
        consistency={"photometric_l1": 0.031, "depth_error": 0.01, "coverage": 0.8},
        notes=["LPIPS unavailable: backbone weights not found"],
        stills=[Still("view_000", [("render", still)])],
        videos={"rgb": b"\x00\x00\x00\x18ftypisom"},
        plots={"psnr": plot_per_view(PER_VIEW)},
    )
    page = render_html(content)
    assert page.startswith("<!DOCTYPE html>") and "scene &lt;1&gt;" in page
    pngs = _embedded(page, "image/png")
    assert len(pngs) == 2 and np.array_equal(iio.imread(pngs[0]), still)
    assert _embedded(page, "video/mp4") == [b"\x00\x00\x00\x18ftypisom"]
    assert "LPIPS unavailable" in page and "0.0310" in page and "photometric_l1 &darr;" in page
    assert "src='http" not in page  # nothing fetched from elsewhere


def test_metrics_rows_order_and_missing_parts():
    rows = metrics_rows({"bbox": {"psnr": 1.0}, "full": {"ssim": 0.5, "psnr": 2.0}}, None)
    assert rows == [("full", "psnr", 2.0), ("full", "ssim", 0.5), ("bbox", "psnr", 1.0)]
    assert "No metrics" in render_html(ReportContent(title="empty"))

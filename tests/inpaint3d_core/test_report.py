"""The HTML report embeds everything it shows, holds every section and states missing metrics honestly."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import warnings

import imageio.v3 as iio
import numpy as np
import pytest

from inpaint3d_core.report import (
    BENCHMARK,
    MAX_SIZE,
    SECTIONS,
    ReportContent,
    Still,
    ViewPictures,
    fit_for_html,
    metrics_rows,
    plot_losses,
    plot_per_view,
    render_html,
    zoom_box,
)

PER_VIEW = [
    {"view": 0, "name": "view_000", "role": "test", "full": {"psnr": 30.0, "ssim": 0.9}, "bbox": {"psnr": 20.0}},
    {"view": 1, "name": "view_001", "role": "test", "full": {"psnr": 28.0, "ssim": 0.8}},
]


def _embedded(page: str, mime: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(rf"data:{mime};base64,([A-Za-z0-9+/=]+)", page)]


def _view(width: int, height: int, gt: bool = True) -> ViewPictures:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    region = np.zeros((height, width), bool)
    region[height // 3 : height // 2, width // 4 : width // 2] = True
    sds = region.copy()
    sds[:, : width // 3] = False
    return ViewPictures(
        name="view_007",
        role="train",
        before=photo,
        region=region,
        after=photo[::-1].copy(),
        ground_truth=photo.copy() if gt else None,
        depth=photo.copy(),
        depth_target=photo.copy(),
        sds_region=sds,
    )


def _content(view: ViewPictures) -> ReportContent:
    return ReportContent(
        title="scene <1>",
        summary={"method": "joint"},
        headline=[("multi-view consistency L1", "0.0310", "lower is better")],
        mean_metrics={"full": {"psnr": 29.0, "ssim": 0.85}, "masked": {"psnr": 18.0}},
        per_view=PER_VIEW,
        consistency={"photometric_l1": 0.031, "depth_error": 0.01, "coverage": 0.8},
        notes=["LPIPS unavailable: backbone weights not found"],
        views=[view],
        view_rows=[{"view": "view_007", "role": "train", "region % of image": 8.3, "consistency L1": 0.02}],
        stills=[Still("virtual view 0", [("expanded render", view.after)])],
        videos={"rgb": b"\x00\x00\x00\x18ftypisom"},
        plots={"training_losses": plot_losses({"rgb": np.geomspace(1, 0.01, 50)})},
    )


def test_plots_are_png():
    assert iio.imread(plot_per_view(PER_VIEW)).ndim == 3
    losses = {"rgb": np.geomspace(1, 0.01, 50), "sds": np.r_[np.full(20, np.nan), np.linspace(1, 0.5, 30)]}
    assert iio.imread(plot_losses(losses)).ndim == 3
    assert plot_per_view([]) is None and plot_losses({}) is None
    assert plot_losses({"sds": np.full(5, np.nan)}) is None
    perfect = [{"view": 0, "full": {"psnr": float("inf")}, "bbox": {"psnr": float("inf")}}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert iio.imread(plot_per_view(PER_VIEW + perfect)).ndim == 3


def test_report_holds_every_section_and_embeds_everything():
    page = render_html(_content(_view(96, 72)))
    assert page.startswith("<!DOCTYPE html>") and "scene &lt;1&gt;" in page
    for section in SECTIONS:
        assert f"<section id='{section}'>" in page, section
    # before/after: both pictures stacked, a slider and a toggle; ground truth and zoom beside them
    assert "type='range'" in page and "toggle before / after" in page
    assert "alt='before: view_007'" in page and "alt='after: view_007'" in page and "ground truth" in page
    assert page.count("<figcaption>zoom: ") == 3
    assert "SDS painted" in page and "depth target" in page
    # metrics: one line of meaning each and the benchmark's numbers for scale
    assert "higher is better" in page and "lower is better" in page and BENCHMARK["masked", "psnr"] in page
    assert "region % of image" in page and "8.30" in page
    assert _embedded(page, "video/mp4") == [b"\x00\x00\x00\x18ftypisom"]
    assert "LPIPS unavailable" in page and "0.0310" in page
    assert "src='http" not in page  # nothing fetched from elsewhere


def test_small_pictures_are_shown_large_and_large_ones_downscaled():
    small = render_html(_content(_view(96, 72)))
    assert "class='before pixel'" in small  # a 96x72 render is scaled up with visible pixels
    pngs = [iio.imread(p) for p in _embedded(small, "image/png")]
    assert any(p.shape[:2] == (72, 96) for p in pngs)  # embedded at its own size, exact
    large = render_html(_content(_view(1920, 1080, gt=False)))
    jpegs = [iio.imread(p) for p in _embedded(large, "image/jpeg")]
    assert jpegs and all(p.shape[1] <= MAX_SIZE[0] and p.shape[0] <= MAX_SIZE[1] for p in jpegs)
    assert "class='before'" in large
    assert len(large) < 4_000_000  # a 1080p view does not make a page of tens of MB


def test_fit_and_zoom_keep_the_aspect_and_the_region():
    assert fit_for_html(np.zeros((1080, 1920, 3), np.uint8)).shape == (567, 1008, 3)
    assert fit_for_html(np.zeros((72, 96, 3), np.uint8)).shape == (72, 96, 3)
    mask = np.zeros((72, 96), bool)
    mask[60:70, 80:94] = True
    x0, y0, x1, y1 = zoom_box(mask)
    assert 0 <= x0 <= 80 and 94 <= x1 <= 96 and 0 <= y0 <= 60 and 70 <= y1 <= 72
    assert abs((x1 - x0) / (y1 - y0) - 96 / 72) < 0.1
    assert zoom_box(np.zeros((4, 4), bool)) is None


def test_metrics_rows_order_and_missing_parts():
    rows = metrics_rows({"bbox": {"psnr": 1.0}, "full": {"ssim": 0.5, "psnr": 2.0}}, None)
    assert rows == [("full", "psnr", 2.0), ("full", "ssim", 0.5), ("bbox", "psnr", 1.0)]
    empty = render_html(ReportContent(title="empty"))
    assert "No metrics" in empty and "scored views: 0" not in empty


CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def _screenshot(page, tmp_path, fragment: str, size: tuple[int, int] = (1200, 900)) -> np.ndarray:
    shot = tmp_path / f"shot-{fragment or 'all'}.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}",
         f"file://{page}{'#only=' + fragment if fragment else ''}"],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return iio.imread(shot)[..., :3]


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")
def test_report_renders_in_headless_chromium(tmp_path):
    """The page lays out in a real browser: the before/after section fills the screenshot."""
    page = tmp_path / "report.html"
    page.write_text(render_html(_content(_view(96, 72))))
    image = _screenshot(page, tmp_path, "before-after")
    assert image.shape[:2] == (900, 1200)
    # the upscaled 96x72 photo covers a large part of the window (not a thumbnail in a corner)
    non_white = (image < 235).any(axis=-1)
    assert non_white.mean() > 0.2


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")
def test_each_section_alone_shows_its_own_content_in_chromium(tmp_path):
    """`#only=<id>` (the link and screenshot form) shows that section and hides the rest, laid out
    within a narrow (720 px) window."""
    page = tmp_path / "report.html"
    page.write_text(render_html(_content(_view(96, 72))))
    for size in ((720, 900),):
        # `#only=none` matches no section: the page title alone, the ink every shot has
        title_only = (_screenshot(page, tmp_path, "none", size) < 235).any(axis=-1).mean()
        shots = {sid: _screenshot(page, tmp_path, sid, size) for sid in SECTIONS}
        for sid, image in shots.items():
            ink = (image < 235).any(axis=-1)
            assert ink.mean() > 1.5 * title_only, f"section {sid} shows (next to) nothing at {size}"
            # the content is laid out within the window, not cut off at its right edge
            assert not ink[:, -2:].any(), f"section {sid} runs past the window's right edge at {size}"
        # each alone differs from the others (one section shown, not the whole page each time)
        blobs = [image.tobytes() for image in shots.values()]
        assert len(set(blobs)) == len(blobs)

"""The page a user opens to judge a result: one self-contained HTML file per scene.

Why self-contained: the report is stored in the scene store as bytes and mailed or copied
around; every picture, plot and video is embedded (data URIs), so it shows the same everywhere
with no side files. Plots use matplotlib's object API with the Agg canvas (no global pyplot
state, no display needed).

What it shows, top to bottom (each a `<section id=...>`, see `SECTIONS`): the headline numbers;
before (the photo, the region outlined) / after (the inpainted render) with a slider and a
toggle, ground truth beside them where it exists, and a zoom on the region; what was generated
(the part SDS painted, the depth target the hole was pulled to); the metrics, each explained in
one line with what the synthetic benchmark's methods score; a per-view table; training losses;
the videos; the task's own pictures. Pictures are downscaled to fit `MAX_SIZE` (the report
stays a few MB at 1000 px captures) and shown at a useful size whatever their pixel count
(small renders are scaled up with `image-rendering: pixelated`, so their pixels stay honest).
Appending `#only=<section id>` to the page's address shows that section alone.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from inpaint3d_core.media import encode_png, to_uint8

REGIONS = ("full", "bbox", "masked", "seen", "unseen")
METRICS = ("psnr", "ssim", "lpips")
LOWER_IS_BETTER = {"lpips", "photometric_l1", "depth_error"}
# Largest picture embedded (width, height): a 16:9 1008x567 frame fits exactly.
MAX_SIZE = (1008, 567)
# Below this width a picture is shown scaled up with visible pixels instead of blurred.
PIXELATED_BELOW = 480
SECTIONS = ("summary", "before-after", "generated", "metrics", "per-view", "losses", "videos", "task")

REGION_TEXT = {
    "full": "whole image",
    "bbox": "bounding box of the region",
    "masked": "region pixels only",
    "seen": "region pixels some training view saw",
    "unseen": "region pixels no training view saw (generated)",
    "consistency": "between views, in the region",
}
METRIC_TEXT = {
    "psnr": "PSNR (dB) against the ground-truth photo; higher is better: above 30 hard to tell apart, "
    "below 20 clearly different.",
    "ssim": "Structural similarity to the ground truth, 0-1; higher is better (1 = same structure).",
    "lpips": "Learned perceptual distance to the ground truth; lower is better (0 = same, above 0.4 looks different).",
    "photometric_l1": "Mean colour difference (0-1) when the region of one view is carried into its "
    "neighbours along the rendered depth; lower is better: the views agree on one fill.",
    "depth_error": "Median relative disagreement of the region's rendered depth between neighbouring views; "
    "lower is better.",
    "coverage": "Fraction of region pixels seen unoccluded by a neighbour: how much of the region the two "
    "numbers above speak for.",
}
# What the methods score on the SPIn-NeRF-shaped synthetic benchmark (README "Measured": 1008x567,
# H200, seed 0, preset full); shown beside a metric so a number has a scale. (region, metric) -> text.
BENCHMARK = {
    ("bbox", "psnr"): "joint 19.1, reconstruction only 19.0, classical 18.2, per-view 14.7",
    ("bbox", "ssim"): "joint 0.373, reconstruction only 0.492, classical 0.350, per-view 0.281",
    ("masked", "psnr"): "joint 19.0, reconstruction only 18.8, classical 18.0, per-view 14.4",
    ("seen", "psnr"): "joint 23.2, reconstruction only 25.5, classical 21.7, per-view 15.6",
    ("unseen", "psnr"): "joint 16.6, reconstruction only 15.9, classical 15.7, per-view 13.3",
    ("consistency", "photometric_l1"): "joint 0.0051, reconstruction only 0.0131, classical 0.0069, per-view 0.0286",
}


@dataclass
class Still:
    """One row of pictures: a caption and labelled uint8 images."""

    caption: str
    images: list[tuple[str, np.ndarray]]


@dataclass
class ViewPictures:
    """One view as the before/after sections show it (uint8 RGB images of one size, bool masks)."""

    name: str
    role: str
    before: np.ndarray  # the captured photo
    region: np.ndarray  # the region that was generated (dilated mask)
    after: np.ndarray  # the inpainted render at this camera
    ground_truth: np.ndarray | None = None  # the scene photographed without the object
    depth: np.ndarray | None = None  # rendered depth, colourised
    depth_target: np.ndarray | None = None  # the hole's depth target, colourised (joint only)
    sds_region: np.ndarray | None = None  # the part of the region SDS painted (joint only)


@dataclass
class ReportContent:
    """Everything the page shows; any part may be empty."""

    title: str
    summary: dict[str, str] = field(default_factory=dict)
    headline: list[tuple[str, str, str]] = field(default_factory=list)  # (label, value, one-line meaning)
    mean_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    per_view: list[dict] = field(default_factory=list)
    consistency: dict | None = None
    notes: list[str] = field(default_factory=list)
    views: list[ViewPictures] = field(default_factory=list)
    view_rows: list[dict] = field(default_factory=list)  # per-view table: one dict per view, same keys
    stills: list[Still] = field(default_factory=list)
    videos: dict[str, bytes] = field(default_factory=dict)
    plots: dict[str, bytes] = field(default_factory=dict)


# ---------------------------------------------------------------------- plots
def figure_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def plot_per_view(per_view: list[dict], metric: str = "psnr") -> bytes | None:
    """Bar chart of one metric per view, full image vs mask bounding box."""
    views = [v for v in per_view if metric in v.get("full", {})]
    if not views:
        return None
    fig = Figure(figsize=(max(4.0, 0.35 * len(views) + 2), 3.0))
    ax = fig.add_subplot()
    x = np.arange(len(views))
    full = np.array([v["full"][metric] for v in views], dtype=np.float64)
    bbox = np.array([v.get("bbox", {}).get(metric, np.nan) for v in views], dtype=np.float64)
    # A perfect view has infinite PSNR: no bar rather than a broken axis (the tables show "inf").
    full[~np.isfinite(full)], bbox[~np.isfinite(bbox)] = np.nan, np.nan
    ax.bar(x - 0.2, full, 0.4, label="full image")
    ax.bar(x + 0.2, bbox, 0.4, label="mask bounding box")
    ax.set_xticks(x, [str(v.get("name", v["view"])) for v in views], rotation=90, fontsize=7)
    ax.set_ylabel(metric.upper())
    ax.set_title(f"{metric.upper()} per view")
    ax.legend(fontsize=8)
    return figure_png(fig)


def plot_losses(losses: dict[str, np.ndarray]) -> bytes | None:
    """One panel per loss term against the step (NaN = the term was not computed at that step),
    with the end of the reconstruction-only warm-up marked where the joint terms start."""
    curves = {k: np.asarray(v, dtype=np.float64) for k, v in sorted(losses.items()) if np.isfinite(v).any()}
    if not curves:
        return None
    rgb = curves.get("rgb")
    joint_start = None
    for name, values in curves.items():
        finite = np.flatnonzero(np.isfinite(values))
        if name != "rgb" and finite.size and (rgb is None or finite[0] > 0):
            joint_start = finite[0] if joint_start is None else min(joint_start, finite[0])
    cols = min(3, len(curves))
    rows = -(-len(curves) // cols)
    fig = Figure(figsize=(3.6 * cols, 2.4 * rows))
    for k, (name, values) in enumerate(curves.items()):
        ax = fig.add_subplot(rows, cols, k + 1)
        steps = np.flatnonzero(np.isfinite(values))
        ax.plot(steps, values[steps], linewidth=1)
        if (values[steps] > 0).all():
            ax.set_yscale("log")
        if joint_start is not None:
            ax.axvline(joint_start, color="#888", linestyle="--", linewidth=0.8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle("training losses per step (dashed: warm-up ends, SDS and depth terms start)", fontsize=9)
    fig.tight_layout()
    return figure_png(fig)


# ---------------------------------------------------------------------- pictures
def fit_for_html(image: np.ndarray, max_size: tuple[int, int] = MAX_SIZE) -> np.ndarray:
    """Downscale (area-averaged) to fit `max_size` = (width, height); smaller images are kept as they are."""
    from PIL import Image

    image = to_uint8(image)
    h, w = image.shape[:2]
    scale = min(max_size[0] / w, max_size[1] / h)
    if scale >= 1:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX))


def outline(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int] = (255, 40, 150)) -> np.ndarray:
    """The photo untouched inside, with the region's contour drawn (thicker on larger images)."""
    import cv2

    out = to_uint8(image).copy()
    contours, _ = cv2.findContours((np.asarray(mask) > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, colour, max(1, round(max(out.shape[:2]) / 250)))
    return out


def tint(image: np.ndarray, layers: list[tuple[np.ndarray, tuple[int, int, int]]], alpha: float = 0.55) -> np.ndarray:
    """Colour the pixels of each (mask, colour) layer over the image, later layers on top."""
    out = to_uint8(image).astype(np.float32)
    for mask, colour in layers:
        sel = np.asarray(mask) > 0
        out[sel] = (1 - alpha) * out[sel] + alpha * np.asarray(colour, np.float32)
    return out.astype(np.uint8)


def zoom_box(mask: np.ndarray, margin: float = 0.35, min_side: int = 16) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) around the region, widened by `margin` of its size and to the image's aspect."""
    ys, xs = np.nonzero(np.asarray(mask) > 0)
    if xs.size == 0:
        return None
    h, w = mask.shape[:2]
    bw, bh = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    side_w = max(bw * (1 + 2 * margin), bh * (1 + 2 * margin) * w / h, min_side)
    side_h = side_w * h / w
    cx, cy = (xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2
    side_w, side_h = min(side_w, w), min(side_h, h)
    x0 = int(round(np.clip(cx - side_w / 2, 0, w - side_w)))
    y0 = int(round(np.clip(cy - side_h / 2, 0, h - side_h)))
    return x0, y0, x0 + int(round(side_w)), y0 + int(round(side_h))


def _data_uri(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def _encode(image: np.ndarray) -> str:
    """PNG for small pictures (exact pixels), JPEG for photo-sized ones (a tenth of the bytes)."""
    from PIL import Image

    image = to_uint8(image)
    if max(image.shape[:2]) <= 320:
        return _data_uri("image/png", encode_png(image))
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=88)
    return _data_uri("image/jpeg", buffer.getvalue())


def img_tag(image: np.ndarray, alt: str, css: str = "") -> str:
    image = fit_for_html(image)
    pixel = " pixel" if image.shape[1] < PIXELATED_BELOW else ""
    return f"<img class='{css}{pixel}' src='{_encode(image)}' alt='{html.escape(alt)}'>"


def _figure(image: np.ndarray, caption: str) -> str:
    return f"<figure>{img_tag(image, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"


# ---------------------------------------------------------------------- text
def fmt_value(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if not np.isfinite(value):
            return "inf" if value > 0 else "n/a"
        return f"{value:.4f}" if abs(value) < 1 else f"{value:.2f}"
    return html.escape(str(value))


def metrics_rows(mean: dict[str, dict[str, float]], consistency: dict | None) -> list[tuple[str, str, float | None]]:
    """(region, metric, value) rows of the headline table, in a fixed order; also what the CLI prints."""
    rows = [(r, m, mean[r][m]) for r in REGIONS for m in METRICS if m in mean.get(r, {})]
    if consistency:
        for key in ("photometric_l1", "depth_error", "coverage"):
            if key in consistency:
                rows.append(("consistency", key, consistency[key]))
    return rows


def _metrics_table(content: ReportContent) -> str:
    rows = metrics_rows(content.mean_metrics, content.consistency)
    if not rows:
        return "<p>No metrics: this scene has no ground truth and fewer than two views with a region to compare.</p>"
    body = "".join(
        f"<tr><td class='l'>{html.escape(REGION_TEXT.get(r, r))}</td>"
        f"<td class='l'>{html.escape(m)}{' &darr;' if m in LOWER_IS_BETTER else ' &uarr;'}</td>"
        f"<td><b>{fmt_value(v)}</b></td><td class='l small'>{html.escape(METRIC_TEXT.get(m, ''))}</td>"
        f"<td class='l small'>{html.escape(BENCHMARK.get((r, m), ''))}</td></tr>"
        for r, m, v in rows
    )
    return (
        "<table class='metrics'><tr><th>region</th><th>metric</th><th>mean</th><th>what it says</th>"
        "<th>synthetic benchmark (README)</th></tr>"
        f"{body}</table><p class='small'>&uarr; higher is better, &darr; lower is better. The benchmark column: "
        "the SPIn-NeRF-shaped synthetic capture at 1008x567, seed 0 (README, Measured); compare your own methods "
        "or settings "
        "with <code>inpaint3d report A.zarr B.zarr --out DIR</code>.</p>"
    )


def _view_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{fmt_value(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table class='views'><tr>{head}</tr>{body}</table>"


# ---------------------------------------------------------------------- sections
def _before_after(view: ViewPictures, hero: bool) -> str:
    """The photo (region outlined) and the render stacked; the slider uncovers the render from the left."""
    before = fit_for_html(outline(view.before, view.region))
    after = fit_for_html(view.after)
    h, w = before.shape[:2]
    pixel = " pixel" if w < PIXELATED_BELOW else ""
    slider = (
        f"<div class='ba{' hero' if hero else ''}' style='aspect-ratio:{w}/{h}'>"
        f"<img class='before{pixel}' src='{_encode(before)}' alt='before: {html.escape(view.name)}'>"
        f"<img class='after{pixel}' src='{_encode(after)}' alt='after: {html.escape(view.name)}'>"
        "<span class='tag left'>before</span><span class='tag right'>after</span>"
        "<input type='range' min='0' max='100' value='50' aria-label='before/after'"
        " oninput=\"this.parentNode.style.setProperty('--pos', this.value + '%')\"></div>"
        "<button onclick=\"var b=this.previousElementSibling,r=b.querySelector('input');"
        "r.value=(r.value>50?0:100);b.style.setProperty('--pos',r.value+'%')\">toggle before / after</button>"
    )
    side = ""
    if view.ground_truth is not None:
        side = f"<figure class='gt'>{img_tag(view.ground_truth, 'ground truth')}<figcaption>ground truth</figcaption>"
        side += "</figure>"
    zoom = ""
    box = zoom_box(view.region)
    if box is not None:
        x0, y0, x1, y1 = box
        crops = [("before", outline(view.before, view.region)), ("after", view.after)]
        if view.ground_truth is not None:
            crops.append(("ground truth", view.ground_truth))
        zoom = "<div class='row zoom'>" + "".join(_figure(im[y0:y1, x0:x1], f"zoom: {c}") for c, im in crops)
        zoom += "</div>"
    caption = f"{html.escape(view.name)} ({html.escape(view.role)})"
    row = f"<div class='row'><div class='slider'>{slider}</div>{side}</div>"
    return f"<div class='view'><h3>{caption}</h3>{row}{zoom}</div>"


def _generated(view: ViewPictures) -> str:
    """Which part of the region the prior painted and the depth the hole was pulled to."""
    figures = []
    if view.sds_region is not None:
        observed = (view.region > 0) & ~(view.sds_region > 0)
        painted = tint(view.before, [(observed, (0, 170, 255)), (view.sds_region, (255, 40, 150))])
        figures.append(_figure(painted, "magenta: SDS painted (no other view saw it); blue: reconstructed"))
    else:
        figures.append(_figure(tint(view.before, [(view.region, (255, 40, 150))]), "the generated region"))
    if view.depth_target is not None:
        figures.append(_figure(view.depth_target, "depth target in the region (warm-up, filled)"))
    if view.depth is not None:
        figures.append(_figure(view.depth, "rendered depth after inpainting"))
    return f"<h3>{html.escape(view.name)}</h3><div class='row'>{''.join(figures)}</div>"


PAGE_CSS = (
    "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1280px;padding:0 1em;color:#222}"
    "h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:0.8em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{text-align:left;background:#f4f4f4}td.l{text-align:left}.small{font-size:0.85em;color:#555}.note{color:#a40}"
    ".cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;"
    "min-width:160px}.card b{font-size:1.6em;display:block}.card span{font-size:0.8em;color:#555}"
    ".row{display:flex;gap:10px;flex-wrap:wrap;align-items:flex-start}.slider{flex:2 1 560px;max-width:900px}"
    "figure{margin:0;flex:1 1 260px;max-width:560px}figure img{width:100%;display:block}"
    "figcaption{font-size:0.8em;text-align:center;color:#444}.zoom figure{max-width:400px}"
    ".gt{flex:1 1 300px}img.pixel,video.pixel{image-rendering:pixelated}"
    ".ba{position:relative;width:100%;--pos:50%;overflow:hidden;background:#000}"
    ".ba img{position:absolute;top:0;left:0;width:100%;height:100%}"
    ".ba .after{clip-path:inset(0 0 0 var(--pos))}"
    ".ba::after{content:'';position:absolute;top:0;bottom:0;left:var(--pos);border-left:2px solid #fff;"
    "pointer-events:none}"
    ".ba input{position:absolute;bottom:6px;left:2%;width:96%;margin:0}"
    ".tag{position:absolute;top:6px;background:rgba(0,0,0,.6);color:#fff;font-size:0.8em;padding:1px 6px}"
    ".tag.left{left:6px}.tag.right{right:6px}button{margin:4px 0}"
    "video{width:100%;max-width:800px}.videos figure{max-width:800px}"
)
# `#only=<id>` shows one section (to link or screenshot it); any other address shows them all.
PAGE_JS = (
    "function only(){var m=location.hash.match(/only=([\\w-]+)/);"
    "document.querySelectorAll('section').forEach(function(s){s.style.display=(!m||s.id===m[1])?'':'none'});}"
    "window.addEventListener('hashchange',only);only();"
)


def _section(sid: str, heading: str, body: str) -> str:
    return f"<section id='{sid}'><h2>{html.escape(heading)}</h2>{body}</section>" if body else ""


def render_html(content: ReportContent) -> str:
    """The report page as one HTML string."""
    title = html.escape(content.title)
    summary = ""
    if content.headline:
        summary += (
            "<div class='cards'>"
            + "".join(
                f"<div class='card'>{html.escape(label)}<b>{html.escape(value)}</b>"
                f"<span>{html.escape(meaning)}</span></div>"
                for label, value, meaning in content.headline
            )
            + "</div>"
        )
    if content.summary:
        summary += (
            "<ul>"
            + "".join(f"<li><b>{html.escape(k)}</b>: {fmt_value(v)}</li>" for k, v in content.summary.items())
            + "</ul>"
        )
    summary += "".join(f"<p class='note'>{html.escape(n)}</p>" for n in content.notes)
    before_after = "".join(_before_after(v, hero=k == 0) for k, v in enumerate(content.views))
    generated = "".join(_generated(v) for v in content.views)
    metrics = _metrics_table(content)
    per_view = _view_table(content.view_rows)
    plots = "".join(
        f"<figure style='max-width:1100px'><img src='{_data_uri('image/png', png)}' alt='{html.escape(name)}'>"
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
        for name, png in content.plots.items()
    )
    videos = "".join(
        f"<figure><video class='pixel' controls loop muted autoplay playsinline "
        f"src='{_data_uri('video/mp4', payload)}'></video><figcaption>{html.escape(name)}</figcaption></figure>"
        for name, payload in content.videos.items()
    )
    task = "".join(
        f"<h3>{html.escape(s.caption)}</h3><div class='row'>"
        + "".join(_figure(image, label) for label, image in s.images)
        + "</div>"
        for s in content.stills
    )
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{title}</title><style>{PAGE_CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        _section("summary", "Summary", summary),
        _section("before-after", "Before / after", before_after),
        _section("generated", "What was generated", generated),
        _section("metrics", "Metrics", metrics),
        _section("per-view", "Per view", per_view),
        _section("losses", "Training and per-view plots", plots),
        _section("videos", "Videos", f"<div class='row videos'>{videos}</div>" if videos else ""),
        _section("task", "More views", task),
        f"<script>{PAGE_JS}</script></body></html>",
    ]
    return "".join(parts)

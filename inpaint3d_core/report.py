"""The page a user opens to judge a result: one self-contained HTML file per scene.

Why self-contained: the report is stored in the scene store as bytes and mailed or copied
around; every picture, plot and video is embedded (base64 data URIs), so it shows the same
everywhere with no side files. Plots use matplotlib's object API with the Agg canvas (no
global pyplot state, no display needed).
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from inpaint3d_core.media import encode_png

REGIONS = ("full", "bbox", "masked")
METRICS = ("psnr", "ssim", "lpips")
_LOWER_IS_BETTER = {"lpips", "photometric_l1", "depth_error"}


@dataclass
class Still:
    """One row of pictures: a caption and labelled uint8 images."""

    caption: str
    images: list[tuple[str, np.ndarray]]


@dataclass
class ReportContent:
    """Everything the page shows; any part may be empty."""

    title: str
    summary: dict[str, str] = field(default_factory=dict)
    mean_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    per_view: list[dict] = field(default_factory=list)
    consistency: dict | None = None
    notes: list[str] = field(default_factory=list)
    stills: list[Still] = field(default_factory=list)
    videos: dict[str, bytes] = field(default_factory=dict)
    plots: dict[str, bytes] = field(default_factory=dict)


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
    """Training curves of every loss term (log scale where all values are positive)."""
    curves = {k: np.asarray(v, dtype=np.float64) for k, v in losses.items() if np.asarray(v).size}
    if not curves:
        return None
    fig = Figure(figsize=(6.0, 3.0))
    ax = fig.add_subplot()
    for name, values in sorted(curves.items()):
        ax.plot(np.arange(len(values)), values, label=name, linewidth=1)
    if all((v[np.isfinite(v)] > 0).all() for v in curves.values()):
        ax.set_yscale("log")
    ax.set_xlabel("logged step")
    ax.set_title("training losses")
    ax.legend(fontsize=8)
    return figure_png(fig)


def _data_uri(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
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
        return "<p>No metrics: this scene has no ground truth and no masked views to compare.</p>"
    body = "".join(
        f"<tr><td>{html.escape(r)}</td><td>{html.escape(m)}{' &darr;' if m in _LOWER_IS_BETTER else ''}</td>"
        f"<td>{_fmt(v)}</td></tr>"
        for r, m, v in rows
    )
    return f"<table><tr><th>region</th><th>metric</th><th>mean</th></tr>{body}</table>"


def _per_view_table(per_view: list[dict]) -> str:
    if not per_view:
        return ""
    cols = [(r, m) for r in REGIONS for m in METRICS if any(m in v.get(r, {}) for v in per_view)]
    head = "".join(f"<th>{r} {m}</th>" for r, m in cols)
    body = "".join(
        f"<tr><td>{_fmt(v.get('name', v['view']))}</td><td>{_fmt(v.get('role', ''))}</td>"
        + "".join(f"<td>{_fmt(v.get(r, {}).get(m))}</td>" for r, m in cols)
        + "</tr>"
        for v in per_view
    )
    return (
        f"<details><summary>per view</summary><table><tr><th>view</th><th>role</th>{head}</tr>{body}</table></details>"
    )


def render_html(content: ReportContent) -> str:
    """The report page as one HTML string."""
    title = html.escape(content.title)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{title}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "figure{display:inline-block;margin:4px}figcaption{font-size:0.8em;text-align:center}"
        "img,video{image-rendering:pixelated;max-width:100%}.note{color:#a40}</style></head><body>",
        f"<h1>{title}</h1>",
    ]
    if content.summary:
        items = "".join(f"<li><b>{html.escape(k)}</b>: {_fmt(v)}</li>" for k, v in content.summary.items())
        parts.append(f"<ul>{items}</ul>")
    parts.append("<h2>Metrics</h2>")
    parts.append(_metrics_table(content))
    parts.extend(f"<p class='note'>{html.escape(n)}</p>" for n in content.notes)
    parts.append(_per_view_table(content.per_view))
    if content.videos:
        parts.append("<h2>Videos</h2>")
        for name, payload in content.videos.items():
            parts.append(
                f"<figure><video controls loop muted autoplay playsinline src='{_data_uri('video/mp4', payload)}'>"
                f"</video><figcaption>{html.escape(name)}</figcaption></figure>"
            )
    if content.stills:
        parts.append("<h2>Views</h2>")
        for still in content.stills:
            parts.append(f"<h3>{html.escape(still.caption)}</h3><div>")
            for label, image in still.images:
                parts.append(
                    f"<figure><img src='{_data_uri('image/png', encode_png(image))}' alt='{html.escape(label)}'>"
                    f"<figcaption>{html.escape(label)}</figcaption></figure>"
                )
            parts.append("</div>")
    if content.plots:
        parts.append("<h2>Plots</h2>")
        for name, png in content.plots.items():
            parts.append(
                f"<figure><img src='{_data_uri('image/png', png)}' alt='{html.escape(name)}'>"
                f"<figcaption>{html.escape(name)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    return "".join(parts)

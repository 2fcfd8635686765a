"""One page comparing several results (methods, settings or seeds) of the same kind of edit.

Why: a single report can only quote the synthetic benchmark for scale; the question a user has
is "which of my runs is better, and where". The page puts the settings that differ, the
headline metrics (best value in bold) and the same views' renders side by side, each run
linking to its own full report. Self-contained like the single report.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from inpaint3d_core.report import (
    LOWER_IS_BETTER,
    METRIC_TEXT,
    PAGE_CSS,
    PAGE_JS,
    REGION_TEXT,
    fmt_value,
    img_tag,
    metrics_rows,
    outline,
    zoom_box,
)


@dataclass
class CompareEntry:
    """One run: its label, its settings, its evaluate metrics and its renders by view name."""

    label: str
    settings: dict[str, str]
    metrics: dict
    renders: dict[str, np.ndarray] = field(default_factory=dict)
    report_href: str | None = None


@dataclass
class CompareView:
    """A view shown for every run: the photo and its region (and ground truth where there is one)."""

    name: str
    before: np.ndarray
    region: np.ndarray
    ground_truth: np.ndarray | None = None


def flatten(config: dict, prefix: str = "") -> dict[str, str]:
    """Nested config -> {"weights.sds": "0.05", ...} (the form the settings table shows)."""
    out: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


def differing(entries: list[CompareEntry]) -> list[str]:
    """Setting names whose value is not the same in every run (missing counts as a value)."""
    names = sorted({k for e in entries for k in e.settings})
    return [k for k in names if len({e.settings.get(k) for e in entries}) > 1]


def _metric_table(entries: list[CompareEntry]) -> str:
    rows: dict[tuple[str, str], list[float | None]] = {}
    for k, entry in enumerate(entries):
        m = entry.metrics
        for region, name, value in metrics_rows(m.get("mean", {}), m.get("consistency")):
            rows.setdefault((region, name), [None] * len(entries))[k] = value
        coverage = (m.get("task") or {}).get("opacity_coverage")
        if coverage is not None:
            rows.setdefault(("region", "opacity_coverage"), [None] * len(entries))[k] = coverage
    if not rows:
        return "<p>None of these runs has metrics.</p>"
    head = "".join(f"<th>{html.escape(e.label)}</th>" for e in entries)
    body = []
    for (region, name), values in rows.items():
        finite = [v for v in values if v is not None and np.isfinite(v)]
        best = None
        if len(finite) > 1 and name != "coverage":
            best = min(finite) if name in LOWER_IS_BETTER else max(finite)
        cells = "".join(
            f"<td>{'<b>' + fmt_value(v) + '</b>' if v is not None and v == best else fmt_value(v)}</td>" for v in values
        )
        arrow = " &darr;" if name in LOWER_IS_BETTER else " &uarr;"
        meaning = METRIC_TEXT.get(name, "fraction of the region rendered opaque; higher is better")
        body.append(
            f"<tr><td class='l'>{html.escape(REGION_TEXT.get(region, region))}</td>"
            f"<td class='l' title='{html.escape(meaning)}'>{html.escape(name)}{arrow}</td>{cells}</tr>"
        )
    return (
        f"<table class='metrics'><tr><th>region</th><th>metric</th>{head}</tr>{''.join(body)}</table>"
        "<p class='small'>Best value of each row in bold (&uarr; higher is better, &darr; lower is better); "
        "hover a metric for its meaning.</p>"
    )


def _settings_table(entries: list[CompareEntry]) -> str:
    keys = differing(entries)
    if not keys:
        return "<p>All runs have the same inpaint settings.</p>"
    head = "".join(f"<th>{html.escape(e.label)}</th>" for e in entries)
    body = "".join(
        f"<tr><td class='l'>{html.escape(k)}</td>"
        + "".join(f"<td>{html.escape(e.settings.get(k, '-'))}</td>" for e in entries)
        + "</tr>"
        for k in keys
    )
    return f"<table><tr><th>setting</th>{head}</tr>{body}</table>"


def _views(views: list[CompareView], entries: list[CompareEntry]) -> str:
    parts = []
    for view in views:
        columns = [("captured (region outlined)", outline(view.before, view.region))]
        if view.ground_truth is not None:
            columns.append(("ground truth", view.ground_truth))
        columns += [(e.label, e.renders[view.name]) for e in entries if view.name in e.renders]
        box = zoom_box(view.region)
        rows = [columns]
        if box is not None:
            x0, y0, x1, y1 = box
            rows.append([(f"zoom: {label}", image[y0:y1, x0:x1]) for label, image in columns])
        parts.append(f"<h3>{html.escape(view.name)}</h3>")
        for row in rows:
            parts.append(
                "<div class='row'>"
                + "".join(
                    f"<figure>{img_tag(image, label)}<figcaption>{html.escape(label)}</figcaption></figure>"
                    for label, image in row
                )
                + "</div>"
            )
    return "".join(parts)


def render_comparison_html(title: str, entries: list[CompareEntry], views: list[CompareView]) -> str:
    """The comparison page as one HTML string (sections: runs, settings, metrics, views)."""
    runs = "<ul>" + "".join(
        f"<li><b>{html.escape(e.label)}</b>: {html.escape(e.metrics.get('method', 'unknown'))}"
        + (f" (<a href='{html.escape(e.report_href)}'>full report</a>)" if e.report_href else "")
        + "</li>"
        for e in entries
    )
    runs += "</ul>"
    sections = [
        ("runs", "Runs", runs),
        ("settings", "Settings that differ", _settings_table(entries)),
        ("metrics", "Metrics side by side", _metric_table(entries)),
        ("views", "The same views, every run", _views(views, entries) or "<p>The runs share no rendered view.</p>"),
    ]
    body = "".join(f"<section id='{sid}'><h2>{html.escape(h)}</h2>{content}</section>" for sid, h, content in sections)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{PAGE_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}<script>{PAGE_JS}</script></body></html>"
    )

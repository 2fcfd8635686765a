"""`inpaint3d report STORE... --out DIR`: each store's report, and with several a comparison page.

DIR/<label>/report.html (+ metrics.json, plots/) per store, label = the store's folder name;
with two or more stores also DIR/compare.html: the settings that differ, the metrics side by
side and the same views rendered by every run (`inpaint3d_core.report_compare`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from flows.commands.inspect_cmd import open_existing_store
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.export import export_report

if TYPE_CHECKING:
    from inpaint3d_core.report_compare import CompareEntry, CompareView
    from inpaint3d_core.store import SceneStore

COMPARE_NAME = "compare.html"


def store_labels(urls: list[str]) -> list[str]:
    """Short unique labels: the store folder's name without `.zarr` (its parent's name when they clash)."""
    paths = [Path(u.rstrip("/")) for u in urls]
    labels = [p.name.removesuffix(".zarr") or "store" for p in paths]
    if len(set(labels)) < len(labels):
        labels = [
            f"{p.parent.name}-{label}" if p.parent.name else label for p, label in zip(paths, labels, strict=True)
        ]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label}-{seen[label]}")
    return unique


def compare_entry(store: SceneStore, label: str, href: str) -> CompareEntry:
    """One run as the comparison page shows it (its inpaint settings, metrics, input-view renders)."""
    from inpaint3d_core.report_compare import CompareEntry, flatten
    from inpaint3d_core.scene import inpaint_config, read_metrics, read_view_infos, read_view_render, rendered_indices

    infos = read_view_infos(store)
    renders = {infos[i].name: read_view_render(store, i)["rgb"] for i in rendered_indices(store)}
    return CompareEntry(
        label=label,
        settings=flatten(inpaint_config(store)),
        metrics=read_metrics(store),
        renders=renders,
        report_href=href,
    )


def compare_views(store: SceneStore, names: set[str], count: int) -> list[CompareView]:
    """Up to `count` views every run rendered, spread over the capture, from the first store."""
    import numpy as np

    from inpaint3d_core.report_compare import CompareView
    from inpaint3d_core.scene import load_masks, load_posed_views

    views = load_posed_views(store)
    masks = load_masks(store, dilated=True)
    candidates = [i for i, v in enumerate(views.views) if v.name in names and masks[i].any()]
    if not candidates:
        return []
    picks = np.unique(np.linspace(0, len(candidates) - 1, count).round().astype(int))
    return [
        CompareView(views.views[i].name, views.image(i), masks[i] > 0, views.gt_image(i))
        for i in (candidates[k] for k in picks)
    ]


def report(
    stores: list[str] = typer.Argument(..., help="One or more evaluated scene stores (paths or fsspec URLs)."),
    out: Path = typer.Option(..., "--out", help="Folder for the reports (and compare.html with 2+ stores)."),
    views: int = typer.Option(3, "--views", min=1, help="Views shown side by side on the comparison page."),
) -> None:
    """Write each store's HTML report; with several stores also a page comparing them side by side."""
    from stages import evaluate as evaluate_stage

    scenes = [open_existing_store(url) for url in stores]
    for url, scene in zip(stores, scenes, strict=True):
        if scene.record(evaluate_stage.SPEC.name) is None:
            raise InputError(f"{url}: has no evaluate result; run `inpaint3d evaluate {url}` first")
    labels = store_labels(stores)
    for label, scene in zip(labels, scenes, strict=True):
        typer.echo(f"report: {export_report(scene, out / label) / 'report.html'}")
    if len(scenes) < 2:
        return
    from inpaint3d_core.report_compare import render_comparison_html

    entries = [compare_entry(s, label, f"{label}/report.html") for s, label in zip(scenes, labels, strict=True)]
    common = set.intersection(*(set(e.renders) for e in entries))
    page = render_comparison_html(
        f"inpaint3d comparison: {', '.join(labels)}", entries, compare_views(scenes[0], common, views)
    )
    (out / COMPARE_NAME).write_text(page, encoding="utf-8")
    typer.echo(f"comparison: {out / COMPARE_NAME}")

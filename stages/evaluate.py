"""Evaluate stage: scores the renders, measures their multi-view consistency, writes the report.

Why here and not in the render stage: scoring choices (which views, which backbone for LPIPS,
consistency settings) change without re-rendering, and a report can be rebuilt cheaply.

Which views are scored against ground truth: with `scored_views="auto"`, the views of role
"test" when the capture has any (SPIn-NeRF: photographed without the object, never trained on),
else every rendered view that has a ground-truth image (synthetic scenes). The region of a view
is its ground-truth mask where one is stored (SPIn-NeRF's test_label, synthetic object masks),
else the masks stage's raw mask. Consistency uses every rendered view whose dilated mask is
non-empty (the region the inpaint stage generated).

Layout of the `evaluate` group: attrs `metrics` = {per_view, mean, consistency, lpips, scored_views,
method}; report.html (bytes); plots/<name>.png (bytes).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from inpaint3d_core.consistency import RenderedView, multiview_consistency
from inpaint3d_core.errors import InputError
from inpaint3d_core.media import colorize_depth, overlay_mask
from inpaint3d_core.metrics import LpipsNet, load_lpips, mean_scores, score_view
from inpaint3d_core.report import ReportContent, Still, plot_losses, plot_per_view, render_html
from inpaint3d_core.scene import PosedViews, load_masks, load_posed_views
from inpaint3d_core.stage import StageConfig, StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import SceneStore, read_bytes, write_bytes
from inpaint3d_core.task_report import task_report
from stages.render import load_field, read_videos, read_view_render, rendered_indices

SPEC = StageSpec(name="evaluate", schema_version=1, upstream=("ingest", "poses", "masks", "render"))
REPORT_KEY = "report.html"


class Config(StageConfig):
    """How the renders are scored."""

    scored_views: Literal["auto", "test", "all"] = Field(
        "auto",
        description="Views scored against ground truth: 'test' (held-out views, SPIn-NeRF), 'all' (every rendered "
        "view with ground truth), 'auto' = test views when the capture has any, else all.",
    )
    neighbours: int = Field(2, ge=1, description="Consistency: neighbouring views each view is warped into.")
    depth_tol: float = Field(
        0.05, gt=0, description="Consistency: relative depth disagreement above which a warped pixel is occluded."
    )
    lpips: bool = Field(True, description="Report LPIPS when its backbone weights are on disk (never downloaded).")
    lpips_net: LpipsNet = Field("alex", description="LPIPS backbone (torchmetrics names).")
    stills: int = Field(4, ge=0, description="Views shown as still pictures in the report.")


def _scored_indices(views: PosedViews, rendered: list[int], mode: str) -> tuple[list[int], str]:
    tests = [i for i in rendered if views.views[i].role == "test"]
    if mode == "test" or (mode == "auto" and tests):
        return tests, "test"
    return rendered, "all"


def _region_mask(views: PosedViews, masks: list[np.ndarray], i: int) -> np.ndarray:
    gt_mask = views.gt_mask(i)
    return gt_mask if gt_mask is not None else masks[i]


def score_views(
    views: PosedViews, indices: list[int], renders: dict[int, dict], masks: list[np.ndarray], lpips
) -> list[dict]:
    """Per-view metrics of the views that have a ground-truth image."""
    out = []
    for i in indices:
        gt = views.gt_image(i)
        if gt is None:
            continue
        rgb = renders[i]["rgb"]
        if gt.shape != rgb.shape:
            raise InputError(
                f"view {views.views[i].name}: ground truth is {gt.shape} but the render is {rgb.shape}; "
                "the ground-truth image must have the ingested size"
            )
        scores = score_view(rgb, gt, _region_mask(views, masks, i), lpips)
        out.append({"view": i, "name": views.views[i].name, "role": views.views[i].role, **scores})
    return out


def consistency_of(views: PosedViews, renders: dict[int, dict], masks: list[np.ndarray], config: Config) -> dict | None:
    """Multi-view consistency over the rendered views whose (dilated) mask is non-empty."""
    chosen = [i for i in renders if masks[i].any()]
    if len(chosen) < 2:
        return None
    cams = views.cameras
    rendered = [
        RenderedView(
            rgb=renders[i]["rgb"],
            depth=renders[i]["depth"],
            K=cams.K[i],
            c2w=cams.c2w[i],
            mask=masks[i],
            acc=renders[i]["acc"],
        )
        for i in chosen
    ]
    result = multiview_consistency(rendered, neighbours=config.neighbours, depth_tol=config.depth_tol)
    for entry in result["per_view"]:
        entry["view"] = chosen[entry["view"]]
    return result


def _stills(views: PosedViews, indices: list[int], renders: dict[int, dict], masks, count: int) -> list[Still]:
    if count == 0 or not indices:
        return []
    picks = [indices[k] for k in np.unique(np.linspace(0, len(indices) - 1, count).round().astype(int))]
    stills = []
    for i in picks:
        r = renders[i]
        images = [("captured + mask", overlay_mask(views.image(i), masks[i])), ("inpainted render", r["rgb"])]
        gt = views.gt_image(i)
        if gt is not None:
            images.append(("ground truth", gt))
        images.append(("rendered depth", colorize_depth(r["depth"], r["acc"])))
        stills.append(Still(f"{views.views[i].name} ({views.views[i].role})", images))
    return stills


def _training_losses(store: SceneStore) -> dict[str, np.ndarray]:
    """Loss curves the inpaint stage stored (`losses/<term>`), if any."""
    if store.record("inpaint") is None:
        return {}
    group = store.read("inpaint")
    if "losses" not in set(group.group_keys()):
        return {}
    losses = group["losses"]
    return {name: np.asarray(losses[name][...]) for name in losses.array_keys()}


def _compute(ctx: StageContext, config: Config) -> dict:
    store = ctx.store
    views = load_posed_views(store)
    raw_masks = load_masks(store, dilated=False)
    dilated = load_masks(store, dilated=True)
    rendered = rendered_indices(store)
    renders = {i: read_view_render(store, i) for i in rendered}
    scored, scored_mode = _scored_indices(views, rendered, config.scored_views)

    notes = []
    lpips, reason = load_lpips(config.lpips_net) if config.lpips else (None, "LPIPS not requested")
    if lpips is None:
        notes.append(reason)
    per_view = score_views(views, scored, renders, raw_masks, lpips)
    if not per_view:
        notes.append(f"no ground truth for the {scored_mode} views: image metrics not computed")
    mean = mean_scores(per_view)
    consistency = consistency_of(views, renders, dilated, config)
    if consistency is None:
        notes.append("consistency not computed: fewer than two rendered views have a mask")

    inpaint_record = store.record("inpaint")
    method = str(inpaint_record.config.get("method", "unknown")) if inpaint_record else "unknown"
    task, task_stills = task_report(
        store, lambda which: load_field(store, None, which), views, renders, dilated, config.stills
    )
    metrics = {
        "per_view": per_view,
        "mean": mean,
        "consistency": consistency,
        "lpips": "available" if lpips is not None else reason,
        "scored_views": scored_mode,
        "method": method,
        "notes": notes,
        "task": task,
    }
    ctx.group.attrs["metrics"] = metrics

    plots = {}
    for metric in ("psnr", "ssim"):
        png = plot_per_view(per_view, metric)
        if png is not None:
            plots[f"{metric}_per_view"] = png
    losses_png = plot_losses(_training_losses(store))
    if losses_png is not None:
        plots["training_losses"] = losses_png
    plot_group = ctx.group.require_group("plots")
    for name, png in plots.items():
        write_bytes(plot_group, f"{name}.png", png)

    content = ReportContent(
        title=f"inpaint3d report: {store.url}",
        summary={
            "method": method,
            "scored views": f"{len(per_view)} ({scored_mode})",
            "rendered views": len(rendered),
            **{f"task: {k}" if k != "task" else "task": _task_value(v) for k, v in task.items() if v is not None},
        },
        mean_metrics=mean,
        per_view=per_view,
        consistency=consistency,
        notes=notes,
        stills=task_stills + _stills(views, scored or rendered, renders, raw_masks, config.stills),
        videos=read_videos(store),
        plots=plots,
    )
    write_bytes(ctx.group, REPORT_KEY, render_html(content).encode("utf-8"))
    return headline(metrics)


def headline(metrics: dict) -> dict:
    """The few numbers worth a glance (the stage summary)."""
    mean, consistency = metrics["mean"], metrics["consistency"] or {}
    out = {"method": metrics["method"], "scored": len(metrics["per_view"])}
    for region in ("full", "bbox"):
        for name, value in mean.get(region, {}).items():
            out[f"{region}_{name}"] = value
    if consistency.get("photometric_l1") is not None:
        out["consistency_l1"] = consistency["photometric_l1"]
    task = metrics.get("task") or {}
    out["task"] = task.get("task", "removal")
    for key in ("opacity_coverage", "kept_region_psnr"):
        if task.get(key) is not None:
            out[key] = task[key]
    if (task.get("consistency") or {}).get("photometric_l1") is not None:
        out["virtual_consistency_l1"] = task["consistency"]["photometric_l1"]
    return out


def _task_value(value) -> str:
    """A task metric as report text (numbers rounded, nested consistency reduced to its L1)."""
    if isinstance(value, dict):
        return _task_value(value.get("photometric_l1"))
    if isinstance(value, list):
        return ", ".join(_task_value(v) for v in value)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run(store: SceneStore, config: Config, force: bool = False) -> StageResult:
    return run_stage(store, SPEC, config, lambda ctx: _compute(ctx, config), force)


# ---------------------------------------------------------------------- reading the result
def read_metrics(store: SceneStore) -> dict:
    return dict(store.read(SPEC.name).attrs["metrics"])


def read_report(store: SceneStore) -> bytes:
    return read_bytes(store.read(SPEC.name), REPORT_KEY)


def read_plots(store: SceneStore) -> dict[str, bytes]:
    plots = store.read(SPEC.name)["plots"]
    return {name: read_bytes(plots, name) for name in plots.array_keys()}

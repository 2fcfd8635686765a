"""Evaluate stage: scores the renders, measures their multi-view consistency, writes the report.

Why here and not in the render stage: scoring choices (which views, which backbone for LPIPS,
consistency settings) change without re-rendering, and a report can be rebuilt cheaply.

Which views are scored against ground truth: with `scored_views="auto"`, the views of role
"test" when the capture has any (SPIn-NeRF: photographed without the object, never trained on),
else every rendered view that has a ground-truth image (synthetic scenes). The region of a view
is its ground-truth mask where one is stored (SPIn-NeRF's test_label, synthetic object masks),
else the masks stage's raw mask. Where the capture says which part of that region no training
view saw (`gt_unseen`), the scores are also split into the seen and the unseen part: the
unseen part is what had to be generated. Consistency uses every rendered view whose dilated mask is
non-empty (the region the inpaint stage generated).

Layout of the `evaluate` group (`scene.write_evaluation`, read back with `scene.read_metrics`,
`read_report`, `read_plots`): attrs `metrics` = {per_view, mean, consistency, lpips, scored_views,
method}; report.html (bytes); plots/<name>.png (bytes).
"""

from __future__ import annotations

import numpy as np

from inpaint3d_core.consistency import RenderedView, multiview_consistency
from inpaint3d_core.errors import InputError
from inpaint3d_core.media import colorize_depth, depth_limits
from inpaint3d_core.metrics import load_lpips, mean_scores, score_view
from inpaint3d_core.report import METRICS, ReportContent, ViewPictures, plot_losses, plot_per_view, render_html
from inpaint3d_core.scene import (
    DEPTH_TARGETS,
    EVALUATE,
    INGEST,
    INPAINT,
    MASKS,
    POSES,
    RENDER,
    SDS_REGIONS,
    PosedViews,
    inpaint_config,
    load_masks,
    load_posed_views,
    read_losses,
    read_videos,
    read_view_arrays,
    read_view_render,
    rendered_indices,
    write_evaluation,
)
from inpaint3d_core.stage import StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import SceneStore
from inpaint3d_core.task_report import task_report
from stages.configs.evaluate import Config

# code_version 2: seen/unseen scores where ingest has gt_unseen; 3: task numbers from the render stage's renders
# (no field loaded); 4: SSIM in float32 (scores change by ~1e-7)
SPEC = StageSpec(name=EVALUATE, schema_version=1, code_version=4, upstream=(INGEST, POSES, MASKS, INPAINT, RENDER))


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
        unseen = views.gt_unseen(i) if views.gt_mask(i) is not None else None
        scores = score_view(rgb, gt, _region_mask(views, masks, i), lpips, unseen)
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


def _picks(indices: list[int], count: int) -> list[int]:
    """`count` views spread evenly over `indices` (the first one is the report's large picture)."""
    if count == 0 or not indices:
        return []
    return [indices[k] for k in np.unique(np.linspace(0, len(indices) - 1, count).round().astype(int))]


def _report_views(
    views: PosedViews,
    picks: list[int],
    renders: dict[int, dict],
    regions: list[np.ndarray],
    store: SceneStore,
    sds_regions: dict[int, np.ndarray],
) -> list[ViewPictures]:
    """Before/after pictures of the picked views, with what the inpaint stage generated there."""
    depth_targets = read_view_arrays(store, DEPTH_TARGETS)
    out = []
    for i in picks:
        r, region = renders[i], regions[i] > 0
        limits = depth_limits([r["depth"]], [r["acc"] >= 0.5])
        target = None
        if i in depth_targets:
            # the target inside the region over the (dimmed) rendered depth around it, on one colour scale
            around = (colorize_depth(r["depth"], r["acc"], limits) * 0.4).astype(np.uint8)
            inside = colorize_depth(depth_targets[i], None, limits)
            target = np.where(region[..., None], inside, around)
        out.append(
            ViewPictures(
                name=views.views[i].name,
                role=views.views[i].role,
                before=views.image(i),
                region=region,
                after=r["rgb"],
                ground_truth=views.gt_image(i),
                depth=colorize_depth(r["depth"], r["acc"], limits),
                depth_target=target,
                sds_region=sds_regions[i] > 0 if i in sds_regions else None,
            )
        )
    return out


def _view_rows(
    views: PosedViews,
    renders: dict[int, dict],
    regions: list[np.ndarray],
    per_view: list[dict],
    consistency: dict | None,
    sds_regions: dict[int, np.ndarray],
) -> list[dict]:
    """One row per rendered view: its region, what SDS painted there, its scores where it has them."""
    scored = {v["view"]: v for v in per_view}
    l1 = {e["view"]: e.get("photometric_l1") for e in (consistency or {}).get("per_view", [])}
    rows = []
    for i, r in renders.items():
        region = regions[i] > 0
        area = int(region.sum())
        row = {
            "view": views.views[i].name,
            "role": views.views[i].role,
            "region % of image": 100.0 * area / region.size,
            "opaque % of region": 100.0 * float((r["acc"][region] >= 0.5).mean()) if area else None,
        }
        if i in sds_regions and area:
            row["SDS-painted % of region"] = 100.0 * float((sds_regions[i] > 0).sum()) / area
        for region_name in ("masked", "bbox", "full"):
            for metric in METRICS:
                value = scored.get(i, {}).get(region_name, {}).get(metric)
                if value is not None:
                    row[f"{region_name} {metric}"] = value
        row["consistency L1"] = l1.get(i)
        rows.append(row)
    return _same_columns(rows)


def _same_columns(rows: list[dict]) -> list[dict]:
    """Every row with the union of the columns (in first-seen order), None where a view has no value."""
    cols: list[str] = []
    for row in rows:
        cols += [c for c in row if c not in cols]
    return [{c: row.get(c) for c in cols} for row in rows]


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
    per_view = score_views(views, scored, renders, raw_masks, lpips)
    if not per_view:
        notes.append(_no_ground_truth_note(scored_mode, scored))
    elif lpips is None:
        notes.append(reason)
    mean = mean_scores(per_view)
    consistency = consistency_of(views, renders, dilated, config)
    if consistency is None:
        notes.append("consistency not computed: fewer than two rendered views have a region")

    inpaint = inpaint_config(store)
    method = str(inpaint.get("method", "unknown"))
    task, task_stills = task_report(store, views, renders, dilated, config.stills)
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

    plots = {}
    losses_png = plot_losses(read_losses(store))
    if losses_png is not None:
        plots["training_losses"] = losses_png
    for metric in ("psnr", "ssim"):
        png = plot_per_view(per_view, metric)
        if png is not None:
            plots[f"{metric}_per_view"] = png

    shown = [i for i in (scored or rendered) if dilated[i].any()] or (scored or rendered)
    sds_regions = read_view_arrays(store, SDS_REGIONS)
    content = ReportContent(
        title=f"inpaint3d report: {store.url}",
        summary=_summary(inpaint, metrics, len(rendered)),
        headline=_headline_cards(metrics),
        mean_metrics=mean,
        per_view=per_view,
        consistency=consistency,
        notes=notes,
        views=_report_views(views, _picks(shown, config.stills), renders, dilated, store, sds_regions),
        view_rows=_view_rows(views, renders, dilated, per_view, consistency, sds_regions),
        stills=task_stills,
        videos=read_videos(store),
        plots=plots,
    )
    write_evaluation(ctx.group, metrics, plots, render_html(content))
    return headline(metrics)


def _no_ground_truth_note(mode: str, scored: list[int]) -> str:
    if mode == "test" and not scored:
        return "this capture has no test views (photographed without the object): image metrics not computed"
    return (
        "no ground-truth photo of the scene without the object: PSNR, SSIM and LPIPS are not computed; "
        "judge the result by the pictures and the multi-view consistency"
    )


def _summary(config: dict, metrics: dict, rendered: int) -> dict[str, str]:
    """The settings behind the result (the inpaint config) and the task's numbers, as short text."""
    out = {"method": metrics["method"]}
    for key in ("preset", "prior", "steps_scale", "sds_region"):
        if key in config:
            value = config[key]["kind"] if key == "prior" else config[key]
            out[key.replace("_", " ")] = str(value)
    out["rendered views"] = str(rendered)
    if metrics["per_view"]:
        out["views scored against ground truth"] = f"{len(metrics['per_view'])} ({metrics['scored_views']} views)"
    for k, v in metrics["task"].items():
        if v is not None:
            out["task" if k == "task" else f"task: {k}"] = _task_value(v)
    return out


def _headline_cards(metrics: dict) -> list[tuple[str, str, str]]:
    """The two or three numbers a user looks at first, each with its meaning."""
    cards = []
    masked = metrics["mean"].get("masked", {})
    if "psnr" in masked:
        cards.append(("region PSNR vs ground truth", f"{masked['psnr']:.2f} dB", "higher is better"))
    l1 = (metrics["consistency"] or {}).get("photometric_l1")
    if l1 is not None:
        cards.append(("multi-view consistency L1", f"{l1:.4f}", "lower is better: the views agree"))
    coverage = (metrics["task"] or {}).get("opacity_coverage")
    if coverage is not None:
        cards.append(("region rendered opaque", f"{100 * coverage:.1f}%", "100% = no see-through holes"))
    return cards


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

"""The task's own part of the evaluation report: its numbers and the pictures that show its result.

Why apart from the evaluate stage: each task judges a different region (a mask in the captured
views, or virtual views past the capture) and completion also checks what must *not* change;
keeping that here leaves the stage a list of calls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from inpaint3d_core.media import colorize_depth, overlay_mask, to_uint8
from inpaint3d_core.report import Still
from inpaint3d_core.scene import PosedViews, has_virtual_views, inpaint_config, read_virtual_views
from inpaint3d_core.store import SceneStore
from inpaint3d_core.task_metrics import (
    RendersViews,
    expansion_metrics,
    kept_region_psnr,
    opacity_coverage,
    render_cameras,
)

# Completion renders the warm-up field at this many input views to check the kept region.
KEPT_REGION_VIEWS = 8


def _as_float(render: dict) -> dict:
    rgb = np.asarray(render["rgb"])
    return {**render, "rgb": rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)}


def task_report(
    store: SceneStore,
    load_field: Callable[[str], RendersViews],
    views: PosedViews,
    renders: dict[int, dict],
    masks: list[np.ndarray],
    stills: int = 4,
) -> tuple[dict, list[Still]]:
    """Metrics of the inpaint stage's task and pictures of its result.

    load_field("final" | "warmup") gives a field with `render_view`; renders: the render stage's
    renders of the input views; masks: the dilated masks (the generated region in those views).
    """
    task = str(inpaint_config(store).get("task", "removal"))
    shown = [i for i in renders if masks[i].any()]
    out: dict = {
        "task": task,
        "opacity_coverage": opacity_coverage([renders[i] for i in shown], [masks[i] for i in shown]) if shown else None,
    }
    pictures: list[Still] = []
    if task == "completion" and shown:
        picks = shown[:KEPT_REGION_VIEWS]
        cams = views.cameras
        warmup = render_cameras(
            load_field("warmup"), cams.K[picks], cams.c2w[picks], cams.width[picks], cams.height[picks], "warm-up"
        )
        out["kept_region_psnr"] = kept_region_psnr(
            [_as_float(renders[i]) for i in picks], warmup, [masks[i] for i in picks]
        )
    if task == "expansion" and has_virtual_views(store):
        metrics, virtual_renders = expansion_metrics(load_field("final"), store)
        out.update(metrics)
        cams, holes, before = read_virtual_views(store)
        for k in range(min(stills, len(cams))):
            r = virtual_renders[k]
            pictures.append(
                Still(
                    f"virtual view {k} ({cams.kind[k]}, from view {views.views[int(cams.source[k])].name})",
                    [
                        ("warm-up + unobserved", overlay_mask(before[k], holes[k])),
                        ("expanded render", to_uint8(r["rgb"])),
                        ("opacity", to_uint8(np.repeat(r["acc"][..., None], 3, axis=-1))),
                        ("rendered depth", colorize_depth(r["depth"], r["acc"])),
                    ],
                )
            )
    return out, pictures

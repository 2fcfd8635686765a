"""The task's own part of the evaluation report: its numbers and the pictures that show its result.

Why apart from the evaluate stage: each task judges a different region (a mask in the captured
views, or virtual views past the capture) and completion also checks what must *not* change;
keeping that here leaves the stage a list of calls.
"""

from __future__ import annotations

import numpy as np

from inpaint3d_core.media import colorize_depth, overlay_mask, to_uint8
from inpaint3d_core.report import Still
from inpaint3d_core.scene import (
    VIRTUAL_VIEWS,
    WARMUP_VIEWS,
    PosedViews,
    has_virtual_views,
    inpaint_config,
    read_renders,
    read_virtual_views,
)
from inpaint3d_core.store import SceneStore
from inpaint3d_core.task_metrics import expansion_metrics, kept_region_psnr, opacity_coverage


def _as_float(render: dict) -> dict:
    rgb = np.asarray(render["rgb"])
    return {**render, "rgb": rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)}


def task_report(
    store: SceneStore, views: PosedViews, renders: dict[int, dict], masks: list[np.ndarray], stills: int = 4
) -> tuple[dict, list[Still]]:
    """Metrics of the inpaint stage's task and pictures of its result, from what the render stage
    stored (no field is rendered here).

    renders: the render stage's renders of the input views; masks: the dilated masks (the
    generated region in those views).
    """
    task = str(inpaint_config(store).get("task", "removal"))
    shown = [i for i in renders if masks[i].any()]
    out: dict = {
        "task": task,
        "opacity_coverage": opacity_coverage([renders[i] for i in shown], [masks[i] for i in shown]) if shown else None,
    }
    pictures: list[Still] = []
    warmup = read_renders(store, WARMUP_VIEWS) if task == "completion" else {}
    picks = [i for i in shown if i in warmup]
    if picks:
        out["kept_region_psnr"] = kept_region_psnr(
            [_as_float(renders[i]) for i in picks], [_as_float(warmup[i]) for i in picks], [masks[i] for i in picks]
        )
    if task == "expansion" and has_virtual_views(store):
        virtual_renders = list(read_renders(store, VIRTUAL_VIEWS).values())
        out.update(expansion_metrics(virtual_renders, store))
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

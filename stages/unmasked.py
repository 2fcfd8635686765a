"""Masks stage for scene expansion alone: every view's mask is empty.

Why a stage of its own: expansion generates only what no photo saw (the unobserved pixels of
virtual cameras, found by the inpaint stage), so a capture without any object mask must still
run; the regular masks stage rightly treats "every mask empty" as a user error. This module has
the masks stage's name and writes the same layout (`inpaint3d_core.scene`), so the inpaint,
render and evaluate stages read it unchanged. `flows.job.job_pipeline` puts it in place of
`stages.masks` when the expansion task is given no mask source (`inpaint3d_core.tasks.needs_object_masks`).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from inpaint3d_core.scene import INGEST, MASKS, POSES, read_view_infos
from inpaint3d_core.stage import StageConfig, StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import SceneStore, write_views

SPEC = StageSpec(name=MASKS, schema_version=1, code_version=1, upstream=(INGEST, POSES))


class Config(StageConfig):
    """Nothing to choose: the captured views are reconstructed as they are."""

    reason: str = Field("expansion", description="Why no region of the captured views is generated (recorded).")


def _compute(ctx: StageContext, config: Config) -> dict:
    infos = read_view_infos(ctx.store)
    empty = [np.zeros((v.height, v.width), np.uint8) for v in infos]
    write_views(ctx.group, "raw", empty)
    write_views(ctx.group, "dilated", empty)
    ctx.group.attrs.update(
        {"method": "none", "area": [0.0] * len(infos), "dilated_area": [0.0] * len(infos), "reason": config.reason}
    )
    return {"method": "none", "views": len(infos), "reason": config.reason}


def run(store: SceneStore, config: Config, force: bool = False) -> StageResult:
    return run_stage(store, SPEC, config, lambda ctx: _compute(ctx, config), force)

"""Masks stage for scene expansion alone: every view's mask is empty.

Why a stage of its own: expansion generates only what no photo saw (the unobserved pixels of
virtual cameras, found by the inpaint stage), so a capture without any object mask must still
run; the regular masks stage rightly treats "every mask empty" as a user error. This module has
the masks stage's name and writes the same layout through the same writer (`scene.write_masks`), so the inpaint,
render and evaluate stages read it unchanged. `flows.job.job_pipeline` puts it in place of
`stages.masks` when the expansion task is given no mask source (`inpaint3d_core.edit_tasks.needs_object_masks`).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.scene import INGEST, MASKS, POSES, load_posed_views, write_masks
from inpaint3d_core.stage import StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import SceneStore

# code_version 2: writes the masks group through scene.write_masks (contact sheet included).
SPEC = StageSpec(name=MASKS, schema_version=1, code_version=2, upstream=(INGEST, POSES))


class Config(StageConfig):
    """Nothing to choose: the captured views are reconstructed as they are."""

    reason: str = Field("expansion", description="Why no region of the captured views is generated (recorded).")


def _compute(ctx: StageContext, config: Config) -> dict:
    views = load_posed_views(ctx.store)
    empty = [np.zeros((v.height, v.width), np.uint8) for v in views.views]
    images = [views.image(i) for i in range(len(views))]
    write_masks(ctx.group, images, [v.name for v in views.views], empty, empty, method="none", reason=config.reason)
    return {"method": "none", "views": len(views), "reason": config.reason}


def run(store: SceneStore, config: Config, force: bool = False) -> StageResult:
    return run_stage(store, SPEC, config, lambda ctx: _compute(ctx, config), force)

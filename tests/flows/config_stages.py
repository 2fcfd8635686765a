"""A stand-in for the inpaint stage with the real stage's Config: it records the config the job
resolved to and trains nothing, so the job -> pipeline path of every entry point is tested in
seconds. Referenced as `config_stages:inpaint` (this folder is on sys.path, see conftest)."""

from __future__ import annotations

from fake_stages import FakeStage

from inpaint3d_core.stage import StageSpec
from stages import inpaint as inpaint_stage


def _record(ctx, config: inpaint_stage.Config) -> dict:
    return {"task": config.task, "prior": config.prior.kind}


inpaint = FakeStage(
    StageSpec(inpaint_stage.SPEC.name, 1, upstream=inpaint_stage.SPEC.upstream), inpaint_stage.Config, _record
)

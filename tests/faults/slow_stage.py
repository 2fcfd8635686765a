"""A stand-in stage that announces it has started and then works for a long time, so the
interrupt tests can signal `inpaint3d run` while a stage is running (`--pipeline slow_stage:SLOW`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.stage import StageSpec, run_stage
from inpaint3d_core.store import SceneStore


class Config(StageConfig):
    capture: str = Field(description="Capture folder; `started` is written into it when the stage begins.")
    # longer than any start-up of the other run the test waits for (the tests signal or kill it long before)
    seconds: float = Field(1800.0, description="How long the stage works.")


def _compute(ctx, config: Config) -> dict:
    Path(config.capture, "started").write_text("1")
    time.sleep(config.seconds)
    return {}


@dataclass(frozen=True)
class SlowStage:
    SPEC: StageSpec = StageSpec("slow", 1)
    Config: type[StageConfig] = Config

    def run(self, store: SceneStore, config: Config, force: bool = False):
        return run_stage(store, self.SPEC, config, lambda ctx: _compute(ctx, config), force=force)


SLOW = SlowStage()

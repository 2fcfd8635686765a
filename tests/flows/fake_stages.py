"""Small stand-in stages (SPEC, Config, run) so the flows are tested in seconds, without the real ones.

They follow the stage contract exactly (run_stage, store groups, fingerprints) and record in their
summaries what the orchestration tests check: when they ran and which GPU they were pinned to.
Referenced as `fake_stages:<name>` (this folder is put on sys.path / PYTHONPATH by conftest).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
from pydantic import Field

from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.errors import InputError
from inpaint3d_core.stage import StageContext, StageSpec, run_stage
from inpaint3d_core.store import SceneStore

PIPELINE_REFS = [f"fake_stages:{name}" for name in ("ingest", "poses", "masks", "inpaint", "evaluate")]


@dataclass(frozen=True)
class FakeStage:
    SPEC: StageSpec
    Config: type[StageConfig]
    compute: Any

    def run(self, store: SceneStore, config: StageConfig, force: bool = False):
        return run_stage(store, self.SPEC, config, lambda ctx: self.compute(ctx, config), force=force)


def _stamp(summary: dict[str, Any], started: float) -> dict[str, Any]:
    return {**summary, "started": started, "finished": time.time()}


class IngestConfig(StageConfig):
    capture: str = Field(description="Capture folder holding value.txt (an integer).")


def _ingest(ctx: StageContext, cfg: IngestConfig) -> dict[str, Any]:
    started = time.time()
    path = f"{cfg.capture.rstrip('/')}/value.txt"
    try:
        with fsspec.open(path, "r") as handle:
            value = int(handle.read().strip())
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(f"capture {cfg.capture}: value.txt missing or not an integer ({exc})") from exc
    ctx.group.create_array("value", data=np.array([value]))
    return _stamp({"value": value}, started)


class PosesConfig(StageConfig):
    scale: float = Field(default=1.0, description="Factor applied to the ingested value.")
    fail_times: int = Field(default=0, description="Fail with an OSError this many times (counted in counter_file).")
    counter_file: str | None = Field(default=None, description="Where attempts are counted.")


def _poses(ctx: StageContext, cfg: PosesConfig) -> dict[str, Any]:
    started = time.time()
    if cfg.counter_file:
        counter = Path(cfg.counter_file)
        attempts = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(attempts))
        if attempts <= cfg.fail_times:
            raise OSError(f"transient failure {attempts}")
    value = float(ctx.store.read("ingest")["value"][0]) * cfg.scale
    ctx.group.create_array("value", data=np.array([value]))
    return _stamp({"value": value}, started)


class MasksConfig(StageConfig):
    dilate_px: int = Field(default=2, description="Pretend dilation (only changes the fingerprint).")
    sleep_s: float = Field(default=0.0, description="Seconds to spend inside the stage.")
    started_file: str | None = Field(default=None, description="Touched when the compute starts.")


def _masks(ctx: StageContext, cfg: MasksConfig) -> dict[str, Any]:
    started = time.time()
    if cfg.started_file:
        Path(cfg.started_file).write_text(str(os.getpid()))
    time.sleep(cfg.sleep_s)
    ctx.group.create_array("area", data=np.array([0.1 * cfg.dilate_px]))
    return _stamp({"area": 0.1 * cfg.dilate_px}, started)


class InpaintConfig(StageConfig):
    preset: str = Field(default="quick", description="Preset name (the job's preset is shared into it).")
    sleep_s: float = Field(default=0.0, description="Seconds the pretend GPU work takes.")
    rendezvous_dir: str | None = Field(
        default=None,
        description="Each run drops a file here and waits (up to 60 s) until another run's file appears, so "
        "two runs overlap if and only if they really execute at the same time (worker polling cannot hide it).",
    )


def _wait_for_peer(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{os.getpid()}-{time.time_ns()}").touch()
    deadline = time.time() + 60.0
    while len(list(folder.iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.1)


def _inpaint(ctx: StageContext, cfg: InpaintConfig) -> dict[str, Any]:
    started = time.time()
    if cfg.rendezvous_dir:
        _wait_for_peer(Path(cfg.rendezvous_dir))
    time.sleep(cfg.sleep_s)
    ctx.group.create_array("weights", data=np.zeros(4, dtype=np.float32))
    return _stamp({"device": os.environ.get("CUDA_VISIBLE_DEVICES", ""), "preset": cfg.preset}, started)


class EvaluateConfig(StageConfig):
    offset: float = Field(default=20.0, description="Added to the pose value to make a 'PSNR'.")


def _evaluate(ctx: StageContext, cfg: EvaluateConfig) -> dict[str, Any]:
    started = time.time()
    value = float(ctx.store.read("poses")["value"][0])
    return _stamp({"metrics": {"psnr": cfg.offset + value}}, started)


ingest = FakeStage(StageSpec("ingest", 1), IngestConfig, _ingest)
poses = FakeStage(StageSpec("poses", 1, upstream=("ingest",)), PosesConfig, _poses)
masks = FakeStage(StageSpec("masks", 1, upstream=("ingest", "poses")), MasksConfig, _masks)
inpaint = FakeStage(StageSpec("inpaint", 1, upstream=("ingest", "poses", "masks")), InpaintConfig, _inpaint)
evaluate = FakeStage(StageSpec("evaluate", 1, upstream=("poses", "inpaint")), EvaluateConfig, _evaluate)


def make_capture(folder: Path | str, value: int | str = 3) -> str:
    """A capture folder the fake ingest reads (a non-integer value makes it corrupt)."""
    fs, path = fsspec.core.url_to_fs(str(folder))
    fs.makedirs(path, exist_ok=True)
    fs.pipe_file(f"{path}/value.txt", str(value).encode())
    return str(folder)

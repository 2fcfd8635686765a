"""Running one stage against the store: fingerprint, skip when cached, commit atomically.

Every stage module in `stages/` declares a `SPEC` (name, schema version, upstream stages) and a
pydantic `Config`, and implements `run(store, config)` by calling `run_stage` with its compute
function. Keeping the caching logic here (and not in Prefect) means a stage behaves the same
from the CLI, from Python and from a flow; Prefect's cache key is simply the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import zarr
from pydantic import BaseModel

from inpaint3d_core.errors import InputError
from inpaint3d_core.store import SceneStore, StageNotReadyError, StageRecord, damage_message

_VERSIONED_PACKAGES = ("inpaint3d", "numpy", "zarr", "torch")


class StoreDamageWarning(UserWarning):
    """A stage's stored result is damaged (outputs missing or truncated) and is being recomputed."""


@dataclass(frozen=True)
class StageSpec:
    """Static facts about a stage.

    schema_version: layout of the stage's group (array names, attributes) that readers expect.
    code_version: the stage's behaviour. Bump it in the stage's SPEC with any change that makes
        the same config and inputs give a different result (a fix, a new internal default, another
        algorithm); it is part of the fingerprint, so stores written by the older code recompute
        this stage and everything downstream instead of looking current.
    upstream: stages whose complete results this one reads (a missing one is an error).
    optional_upstream: stages read when present (their fingerprints then join this one's).
    packages: extra distributions whose versions are recorded (e.g. pycolmap, diffusers).
    external_inputs: fingerprints of what the stage reads from outside the store, computed from
        its config as a JSON dict (ingest: the capture's files), so a changed capture under the
        same path is recomputed rather than reported up to date.
    """

    name: str
    schema_version: int
    code_version: int = 1
    upstream: tuple[str, ...] = ()
    optional_upstream: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    external_inputs: Callable[[dict[str, Any]], dict[str, str]] | None = None


@dataclass
class StageContext:
    """What a compute function gets: where to write, where to keep checkpoints, what it reads."""

    store: SceneStore
    spec: StageSpec
    group: zarr.Group
    fingerprint: str
    inputs: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    def scratch(self) -> zarr.Group:
        """Checkpoint group that survives a crash and is reused by a rerun with the same fingerprint."""
        return self.store.scratch(self.spec.name, self.fingerprint)


@dataclass(frozen=True)
class StageResult:
    """Small, serialisable outcome of running a stage (what flows pass around, never arrays)."""

    stage: str
    store_url: str
    fingerprint: str
    skipped: bool
    seconds: float
    summary: dict[str, Any]


def fingerprint(spec: StageSpec, config: BaseModel, inputs: dict[str, str]) -> str:
    payload = {
        "stage": spec.name,
        "schema": spec.schema_version,
        "code": spec.code_version,
        "config": config.model_dump(mode="json"),
        "inputs": dict(sorted(inputs.items())),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _config_dict(config: BaseModel | dict[str, Any]) -> dict[str, Any]:
    return config if isinstance(config, dict) else config.model_dump(mode="json")


def input_fingerprints(
    store: SceneStore, spec: StageSpec, config: BaseModel | dict[str, Any] | None = None
) -> dict[str, str]:
    """Fingerprints of the upstream results (and, given the config, the external inputs) this
    stage would read now."""
    inputs: dict[str, str] = {}
    for name in spec.upstream:
        record = store.record(name)
        if record is None:
            raise StageNotReadyError(
                f"stage '{spec.name}' needs the result of stage '{name}', which {store.url} does not have: "
                f"run `inpaint3d {name}` on this store first"
            )
        inputs[name] = record.fingerprint
    for name in spec.optional_upstream:
        record = store.record(name)
        if record is not None:
            inputs[name] = record.fingerprint
    if spec.external_inputs is not None and config is not None:
        inputs.update(spec.external_inputs(_config_dict(config)))
    return inputs


def expected_fingerprint(store: SceneStore, spec: StageSpec, config: BaseModel) -> str:
    return fingerprint(spec, config, input_fingerprints(store, spec, config))


def _versions(spec: StageSpec) -> dict[str, str]:
    out = {}
    for name in (*_VERSIONED_PACKAGES, *spec.packages):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def run_stage(
    store: SceneStore,
    spec: StageSpec,
    config: BaseModel,
    compute: Callable[[StageContext], dict[str, Any]],
    force: bool = False,
) -> StageResult:
    """Run `compute` unless a complete, undamaged result with the same fingerprint exists.

    On any exception the temporary group is removed and earlier stages are untouched; the
    scratch group (checkpoints) is kept so a rerun can resume. A damaged result is recomputed
    with a `StoreDamageWarning` saying what was wrong.
    """
    with store.writing():
        inputs = input_fingerprints(store, spec, config)
        fp = fingerprint(spec, config, inputs)
        existing = store.record(spec.name)
        if existing is not None and existing.fingerprint == fp and not force:
            problems = store.damage(spec.name)
            if not problems:
                return StageResult(spec.name, store.url, fp, True, 0.0, existing.summary)
            warnings.warn(
                damage_message(store.url, spec.name, problems, "recomputing it"),
                StoreDamageWarning,
                stacklevel=2,
            )
        tmp = store.begin(spec.name)
        ctx = StageContext(store=store, spec=spec, group=tmp, fingerprint=fp, inputs=inputs)
        start = time.perf_counter()
        try:
            summary = compute(ctx)
        except BaseException:
            store.abort(tmp)
            raise
        seconds = time.perf_counter() - start
        record = StageRecord(
            stage=spec.name,
            schema_version=spec.schema_version,
            code_version=spec.code_version,
            config=config.model_dump(mode="json"),
            inputs=inputs,
            fingerprint=fp,
            complete=False,
            timings={"total_s": seconds, **ctx.timings},
            versions=_versions(spec),
            summary=summary or {},
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        store.commit(tmp, record)
        return StageResult(spec.name, store.url, fp, False, seconds, store.record(spec.name).summary)


def stage_status(store: SceneStore, spec: StageSpec) -> str:
    """'complete', 'damaged' (outputs missing or changed), 'stale' (an upstream, the stage's code
    version or, for ingest, the capture changed since it ran), or 'missing'."""
    record = store.record(spec.name)
    if record is None:
        return "missing"
    if store.damage(spec.name):
        return "damaged"
    if record.code_version != spec.code_version:
        return "stale"
    try:
        current = input_fingerprints(store, spec, record.config)
        recorded = record.inputs
    except StageNotReadyError:
        return "stale"
    except InputError:  # the capture is gone or moved: the store is self-contained, judge by upstream only
        current = input_fingerprints(store, spec)
        recorded = {k: v for k, v in record.inputs.items() if k in current}
    return "complete" if current == recorded else "stale"

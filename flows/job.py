"""The job spec: everything one capture's run needs, typed, built from the pipeline's stage configs.

Why generated: the stages are separate modules listed in `stages.pipeline.PIPELINE`; deriving the
job model from their `Config` classes means a new stage (or a new option of a stage) needs no
edit here, and a typo in a job file is an error naming the stage and the field, not a silently
ignored key.

A job file (YAML or JSON) looks like::

    preset: quick            # given to every stage config that has a `preset` field
    protocol: spinnerf       # same rule for `protocol`
    masks: {method: sphere, sphere: [0, 0, 0, 0.3]}
    inpaint: {prior: {kind: internal}, sds: {t_min: 0.05}}

`capture` and `store` are usually given by the caller (CLI argument, batch inbox); a stage
config that declares a `capture` field (ingest) receives the capture path the same way.

`resolve_job` is where a job's choices are made, for every entry point alike (CLI options, a
`--job` file, a batch inbox's job.yaml, a deployment's parameters): the edit task's implied
values and checks (`inpaint.task`, see `inpaint3d_core.edit_tasks`) and the stages to run.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import fsspec
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from inpaint3d_core.edit_tasks import apply_task, needs_object_masks
from inpaint3d_core.errors import InputError

# Job-level values handed to every stage config that declares a field of the same name.
SHARED_FIELDS = ("capture", "preset", "protocol")
JOB_FILE_NAMES = ("job.yaml", "job.yml", "job.json")


def default_pipeline_refs() -> list[str]:
    """Module names of `stages.pipeline.PIPELINE`, imported only when needed (they pull in torch)."""
    from stages.pipeline import PIPELINE

    return [module.__name__ for module in PIPELINE]


def job_pipeline(values: dict[str, Any], pipeline: list[str] | None = None) -> list[str]:
    """The stage references a job runs: `pipeline` (default `stages.pipeline.PIPELINE`), with the
    masks stage replaced by the empty-masks stage when the job needs no object mask (expansion
    alone: a capture without masks must still run)."""
    refs = list(pipeline) if pipeline else default_pipeline_refs()
    if needs_object_masks(values):
        return refs
    from stages import masks, unmasked

    return [unmasked.__name__ if ref == masks.__name__ else ref for ref in refs]


def resolve_stage(ref: str) -> ModuleType:
    """A stage module (or any object with SPEC, Config, run) from `package.module` or `module:attr`."""
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"pipeline stage '{ref}' cannot be imported ({exc}); check the module name") from exc
    stage = getattr(module, attr) if attr else module
    for needed in ("SPEC", "Config", "run"):
        if not hasattr(stage, needed):
            raise InputError(f"pipeline stage '{ref}' has no `{needed}`: not a stage module")
    return stage


class JobBase(BaseModel):
    """Fields every job has; the stage sections are added by `job_model`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capture: str = Field(description="Capture folder (images, video or posed dataset): local path or fsspec URL.")
    store: str = Field(description="Scene store (zarr) to write: local path or fsspec URL.")
    name: str | None = Field(
        default=None, description="Name of the run (flow-run name, artifact keys); default: the capture's name."
    )
    preset: str | None = Field(
        default=None, description="Preset given to every stage config with a `preset` field (e.g. quick, full)."
    )
    protocol: str | None = Field(
        default=None, description="Evaluation protocol given to every stage config with a `protocol` field."
    )

    @model_validator(mode="before")
    @classmethod
    def _share_job_fields(cls, data: Any) -> Any:
        """Fill `capture`/`preset`/`protocol` into the stage sections that declare them (unless set)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for stage, field in cls.model_fields.items():
            config_cls = field.annotation
            if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
                continue
            section = dict(data.get(stage) or {})
            for shared in SHARED_FIELDS:
                if shared in config_cls.model_fields and data.get(shared) is not None:
                    section.setdefault(shared, data[shared])
            data[stage] = section
        return data

    @property
    def run_name(self) -> str:
        return self.name or Path(self.capture.rstrip("/")).name or "capture"

    def stage_config(self, stage: str) -> BaseModel:
        return getattr(self, stage)


def job_model(stages: list[ModuleType]) -> type[JobBase]:
    """The JobSpec model for a pipeline: one field per stage, typed by that stage's Config."""
    fields: dict[str, Any] = {}
    for stage in stages:
        name = stage.SPEC.name
        if name in JobBase.model_fields:
            raise InputError(f"stage name '{name}' clashes with a job field; rename the stage")
        fields[name] = (stage.Config, Field(description=f"Config of the '{name}' stage."))
    return create_model("JobSpec", __base__=JobBase, **fields)


def build_job(stages: list[ModuleType], values: dict[str, Any]) -> JobBase:
    """Validate job values into the pipeline's JobSpec; a bad value is an InputError naming it."""
    try:
        return job_model(stages).model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'job'}: {err['msg']}" for err in exc.errors())
        raise InputError(f"invalid job spec: {problems}") from exc


def resolve_job(
    values: dict[str, Any], pipeline: list[str] | None = None
) -> tuple[list[str], list[ModuleType], JobBase]:
    """Job values -> (stage references, stage modules, validated job): the edit task applied (what
    it implies filled in, what it needs checked), then the pipeline chosen for the job."""
    task = (values.get("inpaint") or {}).get("task")
    if task is not None:
        values = apply_task(values, task)
    refs = job_pipeline(values, pipeline)
    stages = [resolve_stage(ref) for ref in refs]
    return refs, stages, build_job(stages, values)


def load_job_file(url: str) -> dict[str, Any]:
    """A job file (YAML or JSON, local path or fsspec URL) as a dict."""
    try:
        with fsspec.open(url, "r") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise InputError(f"job file {url} does not exist") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"job file {url} is not valid YAML/JSON: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"job file {url} must hold a mapping (stage name -> options), not {type(data).__name__}")
    return data


def merge_job_values(*layers: dict[str, Any] | None) -> dict[str, Any]:
    """Later layers win; stage sections (dicts) are merged key by key at every depth, not replaced
    (a job file's `inpaint.sds.t_min` survives `--set inpaint.sds.t_max_start=0.9`)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        given = {key: value for key, value in (layer or {}).items() if value is not None}
        merged = merge_sections(merged, given)
    return merged


def merge_sections(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """`layer` over `base`, dicts merged key by key at every depth; neither is changed."""
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_sections(merged[key], value)
        else:
            merged[key] = value
    return merged

"""Command-line values -> a stage's typed config, with pydantic's complaints named as CLI options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from inpaint3d_core.errors import InputError

ConfigT = TypeVar("ConfigT", bound=BaseModel)


def option_name(loc: tuple) -> str:
    """The CLI option behind a config field: `n_gt` -> `--n-gt` (nested fields joined by '-')."""
    return "--" + "-".join(map(str, loc)).replace("_", "-")


def stage_config(
    stage: str, config_cls: type[ConfigT], name_of: Callable[[tuple], str] = option_name, **options
) -> ConfigT:
    """Build `config_cls(**options)`; an invalid value is an InputError (exit code 2) naming the option."""
    try:
        return config_cls(**options)
    except ValidationError as exc:
        problems = "; ".join(f"{name_of(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InputError(f"{stage}: {problems}") from exc


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`--set STAGE.FIELD=VALUE` options as job values (VALUE read as YAML: 3, 0.5, true, [1, 2])."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        stage, dot, field = key.strip().partition(".")
        if not sep or not dot or not stage or not field:
            raise InputError(f"--set {item!r}: expected STAGE.FIELD=VALUE, e.g. --set inpaint.preset=full")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise InputError(f"--set {item!r}: the value is not valid YAML ({exc})") from exc
        values.setdefault(stage, {})[field] = value
    return values


def with_overrides(stage: str, options: dict[str, Any], items: list[str]) -> dict[str, Any]:
    """A stage command's option values with its `--set [STAGE.]FIELD[.SUB]=VALUE` items applied on top.

    Why: every field of a stage config is reachable from its own command, not only the few that
    have a dedicated option; `--set inpaint.weights.sds=0.1` also reaches a nested field. The
    stage prefix is optional on a stage command, and a prefix naming another stage is an error.
    """
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in options.items()}
    for item in items:
        key = item.partition("=")[0].strip()
        qualified = item if key.startswith(f"{stage}.") else f"{stage}.{item}"
        if "." in key and not key.startswith(f"{stage}.") and key.partition(".")[0] in _STAGE_NAMES:
            raise InputError(f"--set {item!r}: `inpaint3d {stage}` sets only {stage} fields (FIELD=VALUE)")
        for path, value in parse_overrides([qualified])[stage].items():
            *parents, leaf = path.split(".")
            target = merged
            for part in parents:
                current = target.get(part)
                target[part] = dict(current) if isinstance(current, dict) else {}
                target = target[part]
            target[leaf] = value
    return merged


# Stage names `--set` may name; kept here (not imported from stages.pipeline, which pulls in torch).
_STAGE_NAMES = ("ingest", "poses", "masks", "inpaint", "render", "evaluate")

"""Command-line values -> a stage's typed config, with pydantic's complaints named as CLI options."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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

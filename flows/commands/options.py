"""CLI options derived from the stage configs, and command-line values -> a stage's typed config.

Why derived: a stage's config (`stages/configs/`) is the one owner of each option's default,
bounds, choices and meaning. A command lists only which fields it offers and under which flags
(an `Option` table); the help text is the field's description, the shown default is the field's
default, and a given value is checked by the field itself, so an error names the flag. Options
left out are not passed at all: the config's defaults (or a job file's values) stay in force.
`--set FIELD=VALUE` reaches every other field, nested ones included (`--set sds.t_min=0.05`).
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import typer
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from flows.job import merge_sections
from inpaint3d_core.errors import InputError

# Stage names `--set` may name (not read from stages.pipeline, which pulls in torch).
_STAGE_NAMES = ("ingest", "poses", "masks", "inpaint", "render", "evaluate")


@dataclass(frozen=True)
class Option:
    """One CLI option that sets one config field.

    field: dotted path in the stage config (`prior.guidance_scale`); flags: the option's names
    (default `--<last part>`); parse: turns the option's text into the field's value, for values
    written in a CLI form (`X,Y,Z,R`); sets: a flag without a value that sets the field to this.
    """

    field: str
    flags: tuple[str, ...] = ()
    parse: Callable[[str, str], Any] | None = None
    sets: Any = None

    @property
    def names(self) -> tuple[str, ...]:
        return self.flags or ("--" + self.field.rpartition(".")[2].replace("_", "-"),)

    @property
    def flag(self) -> str:
        return self.names[0].partition("/")[0]


def field_info(config_cls: type[BaseModel], path: str) -> FieldInfo:
    """The pydantic field at a dotted path of `config_cls` (through nested models)."""
    model: Any = config_cls
    info: FieldInfo | None = None
    for part in path.split("."):
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            raise KeyError(f"{config_cls.__name__} has no field {path!r}")
        info = model.model_fields[part]
        model = info.annotation
    assert info is not None
    return info


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _cli_type(option: Option, info: FieldInfo) -> tuple[Any, str | None]:
    """The type typer parses the option's text as (the field checks the value), and its metavar."""
    annotation = _without_none(info.annotation)
    if option.sets is not None or annotation is bool:
        return bool, None
    if option.parse is not None:
        return str, None
    if get_origin(annotation) is Literal:
        return type(get_args(annotation)[0]), "[" + "|".join(map(str, get_args(annotation))) + "]"
    if get_origin(annotation) is tuple:
        return list[get_args(annotation)[0]], None
    return annotation, None


def _shown_default(info: FieldInfo) -> str | bool:
    if info.default_factory is not None or info.default in (None, "") or info.is_required():
        return False
    return str(info.default)


def _parameter(name: str, option: Option, info: FieldInfo, help_prefix: str) -> inspect.Parameter:
    kind, metavar = _cli_type(option, info)
    names = option.names
    if kind is bool and option.sets is None and len(names) == 1 and "/" not in names[0]:
        names = (f"{names[0]}/--no-{names[0].removeprefix('--')}",)
    default = typer.Option(
        None,
        *names,
        help=help_prefix + (info.description or ""),
        show_default=False if option.sets is not None else _shown_default(info),
        metavar=metavar,
    )
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind | None)


def _param_name(stage: str, option: Option) -> str:
    return f"{stage}__{option.field.replace('.', '__')}"


def check_option(config_cls: type[BaseModel], option: Option, value: Any) -> Any:
    """`value` checked by the option's field alone (type, bounds, choices): an error names the flag."""
    if option.sets is not None:
        return option.sets
    if option.parse is not None:
        value = option.parse(value, option.flag)
    info = field_info(config_cls, option.field)
    try:
        TypeAdapter(Annotated[info.annotation, info]).validate_python(value)
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise InputError(f"{option.flag} {value!r}: {problems}") from exc
    return list(value) if isinstance(value, tuple) else value


def set_path(values: dict[str, Any], path: str, value: Any) -> None:
    """values[a][b][c] = value for path `a.b.c`, copying the dicts on the way (callers' dicts stay as they were)."""
    *parents, leaf = path.split(".")
    target = values
    for part in parents:
        current = target.get(part)
        target[part] = dict(current) if isinstance(current, dict) else {}
        target = target[part]
    target[leaf] = value


@dataclass(frozen=True)
class OptionTable:
    """The options one command offers for one stage's config."""

    stage: str
    config_cls: type[BaseModel]
    options: tuple[Option, ...]
    help_prefix: str = ""

    def parameters(self) -> list[inspect.Parameter]:
        return [
            _parameter(_param_name(self.stage, o), o, field_info(self.config_cls, o.field), self.help_prefix)
            for o in self.options
        ]

    def given(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The values of the options that were given, checked and nested as the config's fields."""
        values: dict[str, Any] = {}
        for option in self.options:
            value = arguments.pop(_param_name(self.stage, option))
            if value is None or value == [] or (option.sets is not None and not value):
                continue
            set_path(values, option.field, check_option(self.config_cls, option, value))
        return values

    def flag_of(self, loc: tuple) -> str:
        """The CLI option behind a config error's location (its field path for `--set` when no flag sets it)."""
        path = ".".join(map(str, loc))
        for option in self.options:
            if path == option.field or path.startswith(option.field + "."):
                return option.flag
        return path or "config"


def with_options(*tables: OptionTable) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the tables' options; it receives their given values as `options={stage: {...}}`."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [p for p in inspect.signature(command).parameters.values() if p.name != "options"]
        arguments = [p for p in own if isinstance(p.default, typer.models.ArgumentInfo)]
        derived = [p for table in tables for p in table.parameters()]

        @functools.wraps(command)
        def wrapper(**arguments: Any) -> None:
            options = {table.stage: table.given(arguments) for table in tables}
            command(**arguments, options=options)

        rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p not in arguments]
        wrapper.__signature__ = inspect.Signature([*arguments, *derived, *rest])  # type: ignore[attr-defined]
        return wrapper

    return decorate


def field_help(config_cls: type[BaseModel], path: str, prefix: str = "") -> str:
    """The description of a config field, for an option that is not a plain field (e.g. `run --task`)."""
    return prefix + (field_info(config_cls, path).description or "")


def stage_config(table: OptionTable, values: dict[str, Any], overrides: Iterable[str] = ()) -> Any:
    """`table.config_cls(**values)` with the `--set` items applied on top; an invalid value is an
    InputError (exit code 2) naming the option or field."""
    stage = table.stage
    merged = with_overrides(stage, values, list(overrides))
    try:
        return table.config_cls(**merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{table.flag_of(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )
        raise InputError(f"{stage}: {problems}") from exc


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`--set STAGE.FIELD[.SUB]=VALUE` options as nested job values (VALUE read as YAML: 3, 0.5, true, [1, 2])."""
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
        set_path(values, f"{stage}.{field}", value)
    return values


def with_overrides(stage: str, options: dict[str, Any], items: list[str]) -> dict[str, Any]:
    """A stage command's option values with its `--set [STAGE.]FIELD[.SUB]=VALUE` items applied on top.

    Why: every field of a stage config is reachable from its own command, not only the few that
    have a dedicated option; `--set inpaint.weights.sds=0.1` also reaches a nested field. The
    stage prefix is optional on a stage command, and a prefix naming another stage is an error.
    """
    merged = dict(options)
    for item in items:
        key = item.partition("=")[0].strip()
        qualified = item if key.startswith(f"{stage}.") else f"{stage}.{item}"
        if "." in key and not key.startswith(f"{stage}.") and key.partition(".")[0] in _STAGE_NAMES:
            raise InputError(f"--set {item!r}: `inpaint3d {stage}` sets only {stage} fields (FIELD=VALUE)")
        merged = merge_sections(merged, parse_overrides([qualified])[stage])
    return merged

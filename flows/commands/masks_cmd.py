"""`inpaint3d masks STORE`: the region to generate in every view (import, propagate, SAM, sphere).

`mask_values(...)` turns the mask options into the masks config's values; `inpaint3d run` reuses
it (and `OPTIONS`) so both commands accept the same mask options.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
import yaml

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import Option, OptionTable, stage_config, with_options
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.export import write_contact_sheet
from stages.configs.masks import Config


def _floats(text: str, count: int, option: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError as exc:
        raise InputError(f"{option} {text!r}: expected {count} comma-separated numbers") from exc
    if len(values) != count:
        raise InputError(f"{option} {text!r}: expected {count} comma-separated numbers, got {len(values)}")
    return values


OPTIONS = OptionTable(
    "masks",
    Config,
    (
        Option("method"),
        Option("mask_dir", ("--mask-dir",)),
        Option("reference_masks", ("--reference-mask",)),
        Option("sam_checkpoint", ("--sam-checkpoint",)),
        Option("sam_model", ("--sam-model",)),
        Option("sphere", ("--sphere",), parse=lambda text, flag: _floats(text, 4, flag)),
        Option("box", ("--box-3d",), parse=lambda text, flag: _floats(text, 6, flag)),
        Option("coordinates"),
        Option("dilate_px", ("--dilate",)),
        Option("mask_threshold", ("--mask-threshold",)),
        Option("missing_masks", ("--allow-missing-masks",), sets="unmasked"),
    ),
)


def read_prompt_file(path: str | Path) -> dict[str, Any]:
    """A JSON/YAML prompt or job file: `{prompts: [{view, points, labels, box}], ...}` or a bare list of prompts.

    Any other keys are further masks options (e.g. `sam_model`, `dilate_px`, `drawings`).
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise InputError(f"prompt file {file} does not exist")
    try:
        data = yaml.safe_load(file.read_text())  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise InputError(f"prompt file {file} is not valid JSON/YAML ({exc})") from exc
    if isinstance(data, list):
        data = {"prompts": data}
    if not isinstance(data, dict):
        raise InputError(f"prompt file {file}: expected a mapping with 'prompts' or a list of prompts")
    return data.get("masks", data) if isinstance(data.get("masks"), dict) else data


def _click(text: str, option: str) -> tuple[str, tuple[float, float], int]:
    """`VIEW:X,Y` (object) or `VIEW:X,Y:0` (background)."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise InputError(f"{option} {text!r}: expected VIEW:X,Y or VIEW:X,Y:0 (0 = background)")
    label = int(parts[2]) if len(parts) == 3 and parts[2] in ("0", "1") else 1
    if len(parts) == 3 and parts[2] not in ("0", "1"):
        raise InputError(f"{option} {text!r}: the label after the second ':' must be 0 or 1")
    x, y = _floats(parts[1], 2, option)
    return parts[0], (x, y), label


def mask_values(
    given: dict[str, Any], prompt_file: str | None = None, points: Sequence[str] = (), boxes: Sequence[str] = ()
) -> dict[str, Any]:
    """The masks config's values: a prompt file's, the given options' over them, and the SAM
    clicks and boxes (`--sam-point`, `--sam-box`) added to the file's prompts of the same view."""
    values: dict[str, Any] = read_prompt_file(prompt_file) if prompt_file else {}
    prompts = {p["view"]: dict(p) for p in values.pop("prompts", [])}
    for text in points:
        view, xy, label = _click(text, "--point")
        entry = prompts.setdefault(view, {"view": view})
        entry["points"] = [*entry.get("points", []), xy]
        entry["labels"] = [*entry.get("labels", []), label]
    for text in boxes:
        view, _, coords = text.partition(":")
        prompts.setdefault(view, {"view": view})["box"] = _floats(coords, 4, "--sam-box")
    values.update(given)
    if prompts:
        values["prompts"] = list(prompts.values())
    return values


def contact_sheet_path(store_url: str) -> Path | None:
    """Where the CLI writes the contact sheet: beside a local store, `<store>.masks.png`."""
    if "://" in store_url and not store_url.startswith("file://"):
        return None
    path = Path(store_url.removeprefix("file://")).expanduser()
    return path.with_name(path.name.rstrip("/") + ".masks.png")


@with_options(OPTIONS)
def masks(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after `inpaint3d poses`)."),
    prompt_file: str | None = typer.Option(None, "--sam-prompt", help="JSON/YAML file with SAM prompts per view."),
    points: list[str] = typer.Option(
        [], "--sam-point", "--point", help="SAM click VIEW:X,Y (object) or VIEW:X,Y:0 (background)."
    ),
    boxes: list[str] = typer.Option([], "--sam-box", help="SAM box VIEW:X0,Y0,X1,Y1 (2D, in one view's pixels)."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of the masks config, FIELD=VALUE (YAML value; repeatable)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
    *,
    options: dict,
) -> None:
    """Masks of the region to generate for every view; writes a contact sheet beside the store."""
    config = stage_config(OPTIONS, mask_values(options["masks"], prompt_file, points, boxes), overrides)
    from stages import masks as masks_stage

    scene = open_existing_store(store)
    result = masks_stage.run(scene, config, force=force)
    s = result.summary
    state = "up to date" if result.skipped else f"done in {result.seconds:.1f} s"
    typer.echo(
        f"masks {state} ({s['method']}): {s['masked_views']}/{s['views']} views masked, "
        f"mean area {100 * s['mean_area']:.1f}%, sources {json.dumps(s['sources'])}"
    )
    for key in ("unmasked_views", "oversized_views", "sam_rejected"):
        if s.get(key):
            typer.echo(f"{key.replace('_', ' ')}: {', '.join(s[key])}")
    sheet = contact_sheet_path(store)
    if sheet is not None:
        typer.echo(f"contact sheet: {write_contact_sheet(scene, sheet)}")

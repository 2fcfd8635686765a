"""`inpaint3d masks STORE`: the region to generate in every view (import, propagate, SAM, sphere).

`masks_config(...)` turns the command-line values into `stages.masks.Config`; `inpaint3d run`
reuses it so both commands accept the same mask options.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import yaml
from pydantic import ValidationError

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import with_overrides
from inpaint3d_core.errors import InputError

if TYPE_CHECKING:
    from inpaint3d_core.store import SceneStore
    from stages.masks import Config as MasksConfig


def _floats(text: str, count: int, option: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError as exc:
        raise InputError(f"{option} {text!r}: expected {count} comma-separated numbers") from exc
    if len(values) != count:
        raise InputError(f"{option} {text!r}: expected {count} comma-separated numbers, got {len(values)}")
    return values


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


def masks_config(
    method: str = "auto",
    mask_dir: str | None = None,
    reference_masks: list[str] | None = None,
    sam_checkpoint: str | None = None,
    sam_model: str = "auto",
    prompt_file: str | None = None,
    points: list[str] | None = None,
    boxes: list[str] | None = None,
    sphere: str | None = None,
    box: str | None = None,
    coordinates: str = "capture",
    dilate_px: int | None = None,
    mask_threshold: int | None = None,
    allow_missing_masks: bool | None = None,
    overrides: list[str] | None = None,
) -> MasksConfig:
    """Command-line values -> the masks stage config (shared by `inpaint3d masks` and `inpaint3d run`)."""
    from stages import masks as masks_stage

    values: dict[str, Any] = read_prompt_file(prompt_file) if prompt_file else {}
    prompts = {p["view"]: dict(p) for p in values.pop("prompts", [])}
    for text in points or []:
        view, xy, label = _click(text, "--point")
        entry = prompts.setdefault(view, {"view": view})
        entry["points"] = [*entry.get("points", []), xy]
        entry["labels"] = [*entry.get("labels", []), label]
    for text in boxes or []:
        view, _, coords = text.partition(":")
        prompts.setdefault(view, {"view": view})["box"] = _floats(coords, 4, "--sam-box")
    options = {
        "method": method,
        "mask_dir": mask_dir,
        "reference_masks": tuple(reference_masks or ()),
        "sam_checkpoint": sam_checkpoint,
        "sam_model": sam_model,
        "sphere": _floats(sphere, 4, "--sphere") if sphere else None,
        "box": _floats(box, 6, "--box-3d") if box else None,
        "coordinates": coordinates,
        "dilate_px": dilate_px,
        "mask_threshold": mask_threshold,
        "missing_masks": "unmasked" if allow_missing_masks else None,
    }
    values.update({k: v for k, v in options.items() if v not in (None, ())})
    if prompts:
        values["prompts"] = list(prompts.values())
    values = with_overrides("masks", values, overrides or [])
    try:
        return masks_stage.Config(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise InputError(f"masks: {problems}") from exc


def contact_sheet_path(store_url: str) -> Path | None:
    """Where the CLI writes the contact sheet: beside a local store, `<store>.masks.png`."""
    if "://" in store_url and not store_url.startswith("file://"):
        return None
    path = Path(store_url.removeprefix("file://")).expanduser()
    return path.with_name(path.name.rstrip("/") + ".masks.png")


def write_contact_sheet(store: SceneStore, out: Path) -> Path:
    from inpaint3d_core.scene import read_contact_sheet

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(read_contact_sheet(store))
    return out


def masks(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after `inpaint3d poses`)."),
    method: str = typer.Option("auto", help="auto, import, propagate, sam, sphere, box or polygon."),
    mask_dir: str | None = typer.Option(None, "--mask-dir", help="Import: folder of mask images named like the views."),
    reference_masks: list[str] = typer.Option(
        [], "--reference-mask", help="Mask image of one view (file stem = view's stem); repeatable; propagated."
    ),
    sam_checkpoint: str | None = typer.Option(None, "--sam-checkpoint", help="SAM checkpoint (.pth/.safetensors)."),
    sam_model: str = typer.Option("auto", "--sam-model", help="auto, vit_b, vit_l or vit_h."),
    prompt_file: str | None = typer.Option(None, "--sam-prompt", help="JSON/YAML file with SAM prompts per view."),
    points: list[str] = typer.Option(
        [], "--sam-point", "--point", help="SAM click VIEW:X,Y (object) or VIEW:X,Y:0 (background)."
    ),
    boxes: list[str] = typer.Option([], "--sam-box", help="SAM box VIEW:X0,Y0,X1,Y1 (2D, in one view's pixels)."),
    sphere: str | None = typer.Option(None, "--sphere", help="3D sphere X,Y,Z,R (see --coordinates)."),
    box: str | None = typer.Option(None, "--box-3d", help="3D box X,Y,Z,SX,SY,SZ (centre, side lengths)."),
    coordinates: str = typer.Option("capture", help="Frame of --sphere/--box-3d: capture or normalized."),
    dilate_px: int | None = typer.Option(None, "--dilate", help="Dilation of the stored masks in pixels."),
    mask_threshold: int | None = typer.Option(None, "--mask-threshold", help="Grey level that counts as masked."),
    allow_missing_masks: bool = typer.Option(
        False, "--allow-missing-masks", help="Import: train views that have no mask file unmasked instead of failing."
    ),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of the masks config, FIELD=VALUE (YAML value; repeatable)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
) -> None:
    """Masks of the region to generate for every view; writes a contact sheet beside the store."""
    config = masks_config(
        method, mask_dir, reference_masks, sam_checkpoint, sam_model, prompt_file, points, boxes, sphere, box,
        coordinates, dilate_px, mask_threshold, allow_missing_masks, overrides,
    )  # fmt: skip
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


def export_masks(store: SceneStore, out: Path) -> Path:
    """One PNG (0/255) per view named by its source file stem, the dilated ones under `dilated/`,
    and the contact sheet: for checking or editing the masks in another tool."""
    import imageio.v3 as iio

    from inpaint3d_core.scene import load_masks, read_view_infos

    infos = read_view_infos(store)
    (out / "dilated").mkdir(parents=True, exist_ok=True)
    for key, masks in (("", load_masks(store, dilated=False)), ("dilated", load_masks(store, dilated=True))):
        for info, mask in zip(infos, masks, strict=True):
            iio.imwrite(out / key / f"{Path(info.source).stem}.png", (mask > 0).astype("uint8") * 255)
    write_contact_sheet(store, out / "contact_sheet.png")
    return out

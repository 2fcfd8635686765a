"""Masks stage: the region to generate, for every ingested view, from one of several sources.

- import:    a folder of mask images matched to views by file name;
- propagate: mask images for one or a few views, carried to the others through 3D;
- sam:       SAM prompted with points/boxes on one or a few views, then propagated (SAM refines
             every view's projection when a checkpoint is given);
- sphere/box: a 3D solid seen by every camera;
- polygon:   polygons / brush strokes drawn on some views, propagated to the rest;
- auto:      whichever of the above the options name, else the capture's own mask folder
             (`masks/`, `masks_N/`, LLFF/SPIn-NeRF `images_N/label/`).

Writes (layout in `inpaint3d_core.scene`): raw/<i> and dilated/<i> uint8 0/1 for every view
(zeros for unmasked or unregistered views); attrs method, area, dilated_area, source (how each
view's mask was made), notes; plus `contact_sheet_png`, an overlay of all views to check at a
glance before the expensive stage.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np

from inpaint3d_core.errors import InputError
from inpaint3d_core.masks import geometric, morphology
from inpaint3d_core.masks.imported import (
    IMAGE_EXTENSIONS,
    MASK_SUFFIXES,
    capture_mask_folders,
    fit_to_view,
    import_masks,
    index_mask_files,
    read_mask_image,
)
from inpaint3d_core.masks.propagate import ScenePoints, observed_matrix, propagate
from inpaint3d_core.scene import (
    INGEST,
    MASKS,
    POSES,
    PosedViews,
    capture_copy,
    load_posed_views,
    load_sparse_points,
    write_masks,
)
from inpaint3d_core.segment import SamPrompt, SamSegmenter, load_sam
from inpaint3d_core.stage import StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import SceneStore
from stages.configs.masks import Config, Method

log = logging.getLogger(__name__)

# code_version 2: the capture's own masks read from the store's copy of them (ingest).
SPEC = StageSpec(name=MASKS, schema_version=1, code_version=2, upstream=(INGEST, POSES), packages=("segment-anything",))


def run(store: SceneStore, config: Config, force: bool = False) -> StageResult:
    return run_stage(store, SPEC, config, lambda ctx: _compute(ctx, config), force=force)


# ---------------------------------------------------------------------------- view lookup
def _strip_mask_suffix(stem: str) -> str:
    for suffix in MASK_SUFFIXES[1:]:
        if stem.endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def find_view(views: PosedViews, key: str) -> int:
    """Index of the view named by `key`: an index, a view name, or a source file stem (any case)."""
    key = str(key).strip()
    if key.isdigit() and int(key) < len(views):
        return int(key)
    wanted = _strip_mask_suffix(Path(key).stem.lower() if Path(key).suffix.lower() in IMAGE_EXTENSIONS else key.lower())
    for i, v in enumerate(views.views):
        if wanted in (v.name.lower(), Path(v.source).stem.lower()):
            return i
    raise InputError(
        f"no view called '{key}': use a source file stem (e.g. '{Path(views.views[0].source).stem}'), a view name "
        f"or an index below {len(views)}"
    )


def _size(views: PosedViews, i: int) -> tuple[int, int]:
    return views.views[i].width, views.views[i].height


# ---------------------------------------------------------------------------- sources
def _capture_mask_folder(views: PosedViews, capture: Path) -> Path | None:
    """The capture's own mask folder that matches the most views, if any."""
    stems = {Path(v.source).stem.lower() for v in views.views}
    best, best_hits = None, 0
    for folder in capture_mask_folders(capture):
        hits = len(stems & set(index_mask_files(folder)))
        if hits > best_hits:
            best, best_hits = folder, hits
    return best


def resolve_method(config: Config, views: PosedViews, capture: Path) -> tuple[Method, str | None]:
    """The concrete method for `auto`, and the mask folder to import from (if importing).

    capture: the copy of the capture's mask folders that ingest stored (`scene.capture_copy`)."""
    if config.method != "auto":
        return config.method, config.mask_dir
    if config.mask_dir:
        return "import", config.mask_dir
    if config.prompts and config.sam_checkpoint:
        return "sam", None
    for method, given in (
        ("propagate", config.reference_masks),
        ("sphere", config.sphere),
        ("box", config.box),
        ("polygon", config.drawings),
    ):
        if given:
            return method, None
    folder = _capture_mask_folder(views, capture)
    if folder is None:
        raise InputError(
            "no mask source: give --mask-dir DIR, --reference-mask PATH, --sam-checkpoint PATH with --prompt FILE, "
            "or --sphere X,Y,Z,R (the capture folder has no masks/ or images_N/label/ to import)"
        )
    return "import", str(folder)


def _scene_points(store: SceneStore, views: PosedViews) -> ScenePoints:
    points = load_sparse_points(store)
    if len(points.xyz) == 0:
        raise InputError("the poses stage stored no sparse points, so masks cannot be propagated; rerun poses")
    observed = observed_matrix(points.track_views, points.track_offsets, len(views))
    return ScenePoints(points.xyz.astype(np.float64), views.cameras, observed)


def _reference_masks(config: Config, views: PosedViews) -> dict[int, np.ndarray]:
    refs: dict[int, np.ndarray] = {}
    for path in config.reference_masks:
        file = Path(path).expanduser()
        if not file.is_file():
            raise InputError(f"reference mask {file} does not exist")
        view = find_view(views, _strip_mask_suffix(file.stem))
        width, height = _size(views, view)
        mask, note = fit_to_view(read_mask_image(file, config.mask_threshold), width, height, f"reference mask {file}")
        if note:
            log.warning(note)
        if not mask.any():
            raise InputError(f"reference mask {file} is empty (nothing above grey level {config.mask_threshold})")
        refs[view] = mask
    return refs


def _segmenter(config: Config) -> SamSegmenter | None:
    return SamSegmenter(load_sam(config.sam_checkpoint, config.sam_model)) if config.sam_checkpoint else None


def _sam_references(config: Config, views: PosedViews, segmenter: SamSegmenter) -> dict[int, np.ndarray]:
    refs: dict[int, np.ndarray] = {}
    for prompt in config.prompts:
        view = find_view(views, prompt.view)
        sam_prompt = SamPrompt(points=np.asarray(prompt.points), labels=np.asarray(prompt.labels), box=prompt.box)
        mask, _ = segmenter.segment(views.image(view), sam_prompt)
        if not mask.any():
            raise InputError(f"SAM found nothing for the prompt on view {prompt.view}: add points or a box")
        refs[view] = morphology.as_binary(mask) | refs.get(view, 0)
    return refs


def _drawn_references(config: Config, views: PosedViews) -> dict[int, np.ndarray]:
    refs: dict[int, np.ndarray] = {}
    for drawing in config.drawings:
        view = find_view(views, drawing.view)
        width, height = _size(views, view)
        mask = geometric.polygon_mask(width, height, drawing.polygons)
        mask |= geometric.scribble_mask(width, height, drawing.strokes, drawing.brush_px)
        refs[view] = mask | refs.get(view, 0)
    return refs


def _solid_masks(config: Config, views: PosedViews, method: str) -> list[np.ndarray]:
    shape = config.sphere if method == "sphere" else config.box
    center = np.asarray(shape[:3], dtype=np.float64)
    if config.coordinates == "capture":
        center = views.normalization.apply_points(center[None])[0]
    scale = views.normalization.scale if config.coordinates == "capture" else 1.0
    masks = []
    for i in range(len(views)):
        if method == "sphere":
            masks.append(geometric.sphere_mask(views.cameras, i, center, config.sphere[3] * scale))
        else:
            masks.append(geometric.box_mask(views.cameras, i, center, np.asarray(config.box[3:]) * scale))
    return masks


def _check_against_reference(
    masks: list[np.ndarray],
    source: list[str],
    refs: dict[int, np.ndarray],
    views: PosedViews,
    config: Config,
    notes: list[str],
) -> dict:
    """Propagated views whose mask covers far more of the view than the reference masks do.

    Why: the views of one capture see the object at about the same size, so a propagated mask
    several times the reference's share has almost surely spread onto the floor or the clutter
    behind the object; without this only masks over 90% of a view were reported.
    """
    reference_area = float(np.mean([morphology.area_fraction(m) for m in refs.values()]))
    propagated = [i for i, how in enumerate(source) if how not in ("reference", "unregistered")]
    ratios = {i: morphology.area_fraction(masks[i]) / reference_area for i in propagated}
    grown = [views.views[i].name for i, r in ratios.items() if r > config.max_area_ratio]
    if grown:
        worst = max(ratios.values())
        note = (
            f"propagated masks of {len(grown)} views cover more than {config.max_area_ratio:g}x the reference "
            f"mask's {reference_area:.0%} of the view (up to {worst:.1f}x: {', '.join(grown[:8])}"
            f"{', ...' if len(grown) > 8 else ''}); they may have spread onto the background: check the contact sheet, "
            "give a second reference mask or a SAM checkpoint"
        )
        log.warning(note)
        notes.append(note)
    return {
        "reference_area": reference_area,
        "max_area_vs_reference": round(max(ratios.values()), 3) if ratios else None,
        "grown_views": grown,
    }


def _propagated(
    store: SceneStore,
    views: PosedViews,
    refs: dict[int, np.ndarray],
    config: Config,
    segmenter: SamSegmenter | None,
    notes: list[str],
) -> tuple[list[np.ndarray], list[str], dict]:
    result = propagate(
        _scene_points(store, views),
        refs,
        config.propagation,
        registered=views.registered,
        segment=segmenter.segment if segmenter else None,
        image=views.image,
    )
    extra = {
        **_check_against_reference(result.masks, result.source, refs, views, config, notes),
        "object_points": int(result.object_points.sum()),
        "sam_rejected": [views.views[i].name for i in result.flagged],
        "sam_agreement": {views.views[i].name: round(v, 3) for i, v in result.agreement.items()},
    }
    return result.masks, result.source, extra


# ---------------------------------------------------------------------------- compute
def _refuse_missing_masks(config: Config, views: PosedViews, missing: list[int], folder: str | Path) -> None:
    """A registered training view without a mask file would keep the object in 3D: say which ones
    unless the user chose to train them unmasked. Test views (scored, never trained) need none."""
    if config.missing_masks == "unmasked":
        return
    names = [views.views[i].name for i in missing if views.registered[i] and views.views[i].role == "train"]
    if names:
        listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise InputError(
            f"masks: {len(names)} view(s) have no mask file in {folder}: {listed}; add their masks "
            "(named like the view's photo), or pass --allow-missing-masks to train them unmasked"
        )


def _compute(ctx: StageContext, config: Config) -> dict:
    views = load_posed_views(ctx.store)
    with capture_copy(ctx.store) as copy:  # the capture's own mask folders, as ingest copied them
        method, folder = resolve_method(config, views, copy.root)
        if method == "import":
            imported = import_masks(
                folder,
                [v.source for v in views.views],
                [_size(views, i) for i in range(len(views))],
                config.mask_threshold,
            )
            folder = copy.name(folder)
    extra: dict = {}
    notes: list[str] = []
    if method == "import":
        masks = imported.masks
        source = ["imported" if i in imported.matched else "missing" for i in range(len(views))]
        _refuse_missing_masks(config, views, imported.missing, folder)
        notes += imported.notes
        extra["mask_dir"] = str(folder)
    elif method in ("sphere", "box"):
        masks = _solid_masks(config, views, method)
        source = [method] * len(views)
    else:
        segmenter = _segmenter(config)
        if method == "propagate":
            refs = _reference_masks(config, views)
        elif method == "sam":
            refs = _sam_references(config, views, segmenter)
        else:
            refs = _drawn_references(config, views)
        refiner = segmenter if config.sam_refine else None
        masks, source, extra = _propagated(ctx.store, views, refs, config, refiner, notes)
    for i in range(len(views)):
        if not views.registered[i] and source[i] != "unregistered":
            masks[i] = np.zeros_like(masks[i])
            source[i] = "unregistered"
    raw = [morphology.as_binary(m) for m in masks]
    summary = _check_areas(raw, views, config, notes)
    dilated = [morphology.dilate(m, config.dilate_px) for m in raw]
    images = [views.image(i) for i in range(len(views))]
    write_masks(
        ctx.group, images, [v.name for v in views.views], raw, dilated, method=method, source=source, notes=notes
    )
    return {"method": method, "views": len(views), "sources": dict(Counter(source)), **summary, **extra}


def _check_areas(raw: list[np.ndarray], views: PosedViews, config: Config, notes: list[str]) -> dict:
    """Empty everywhere is an error; a mask covering nearly a whole view is a warning (or, for
    every masked view at once, an error: the masks are probably inverted)."""
    areas = np.array([morphology.area_fraction(m) for m in raw])
    masked = areas > 0
    if not masked.any():
        raise InputError(
            "every mask is empty: nothing to generate. Check the mask source (threshold, file names, prompt position)"
        )
    too_big = [views.views[i].name for i in np.flatnonzero(areas > config.max_area_fraction)]
    if too_big and len(too_big) == int(masked.sum()):
        raise InputError(
            f"every mask covers more than {config.max_area_fraction:.0%} of its view: they look inverted "
            "(1 must mark the region to generate); invert them or lower --mask-threshold"
        )
    if too_big:
        note = f"masks cover more than {config.max_area_fraction:.0%} of views {', '.join(too_big)}"
        log.warning(note)
        notes.append(note)
    unmasked = [views.views[i].name for i in np.flatnonzero(~masked)]
    if unmasked:
        notes.append(f"{len(unmasked)} views have no mask and are treated as unmasked: {', '.join(unmasked)}")
    return {
        "masked_views": int(masked.sum()),
        "unmasked_views": unmasked,
        "mean_area": float(areas[masked].mean()),
        "max_area": float(areas.max()),
        "oversized_views": too_big,
    }

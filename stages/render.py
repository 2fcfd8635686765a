"""Render stage: the inpainted field seen from the input cameras and along a smooth camera path.

Why both: renders at the registered input/test cameras are what evaluation scores (against
ground truth, and against each other for consistency); a camera path between and around them is
what a person watches to judge whether the new content holds up in 3D. The before/after video
puts the inpaint stage's warm-up field (reconstruction before any SDS) beside the final one;
where that field is not stored, the captured photos stand in for "before". It also renders
everything the evaluate stage scores, so evaluation needs no field and no GPU: the expansion's
virtual views, and for completion the warm-up field at the first views with a region (the
kept-region check).

Layout of the `render` group:
  views/rgb/<i> uint8 (H, W, 3), views/depth/<i> float16 z-depth (normalised scene units),
  views/acc/<i> float16 opacity, for every registered view i (attrs views = [i, ...])
  virtual_views/{rgb,depth,acc}/<k> the same for each virtual view k of an expansion
  warmup_views/{rgb,depth,acc}/<i> the warm-up field at view i (completion)
  path/K (3, 3), path/c2w (F, 4, 4) the camera path (normalised scene, OpenCV)
  frames/rgb/<k>, frames/depth/<k> uint8 path frames (when keep_frames), for PNG export
  videos/<name>.mp4 H.264 bytes: rgb, depth, compare (attrs videos = {name: key})
Writer and readers: `inpaint3d_core.scene` (`write_render`, `read_renders`, `read_videos`, ...).
"""

from __future__ import annotations

import time
from typing import Literal

import cv2
import numpy as np
import zarr
from tqdm import tqdm

from inpaint3d_core.camera_path import CameraPath, make_path, nearest_neighbour_order
from inpaint3d_core.errors import InputError
from inpaint3d_core.media import colorize_depth, depth_limits, encode_mp4, overlay_mask, side_by_side, to_uint8
from inpaint3d_core.scene import (
    FRAMES,
    INGEST,
    INPAINT,
    MASKS,
    POSES,
    RENDER,
    VIEWS,
    VIRTUAL_VIEWS,
    WARMUP_VIEWS,
    PosedViews,
    has_virtual_views,
    inpaint_config,
    load_masks,
    load_posed_views,
    read_virtual_views,
    write_render,
)
from inpaint3d_core.stage import StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import SceneStore, write_bytes, write_views
from stages.configs.render import Config

# code_version 2: also renders the expansion's virtual views and completion's warm-up views.
SPEC = StageSpec(
    name=RENDER, schema_version=1, code_version=2, upstream=(INGEST, POSES, INPAINT), optional_upstream=(MASKS,)
)

# Completion: views at which the warm-up field is rendered for the kept-region check.
KEPT_REGION_VIEWS = 8


def load_field(store: SceneStore, device: str | None, which: Literal["final", "warmup"] = "final"):
    """The inpaint stage's trained field (an object with `render_view(K, c2w, width, height)`)."""
    from inpaint3d_core.nerf.trained import load_trained

    return load_trained(store, device=device, which=which)


def _render(field, K: np.ndarray, c2w: np.ndarray, width: int, height: int) -> dict[str, np.ndarray]:
    out = field.render_view(K, c2w, int(width), int(height))
    return {"rgb": to_uint8(out["rgb"]), "depth": np.asarray(out["depth"]), "acc": np.asarray(out["acc"])}


def render_path(field, path: CameraPath, desc: str) -> list[dict[str, np.ndarray]]:
    return [_render(field, path.K, c2w, path.width, path.height) for c2w in tqdm(path.c2w, desc=desc)]


def spiral_focus(near_far: np.ndarray) -> float:
    """LLFF's focus depth: a weighted harmonic mean of near and far, closer to the near side."""
    near, far = float(near_far[:, 0].mean()), float(near_far[:, 1].mean())
    return 1.0 / (0.25 / max(near, 1e-6) + 0.75 / max(far, 1e-6))


def _render_scored_extras(group: zarr.Group, store: SceneStore, field, views: PosedViews, indices, device) -> dict:
    """What evaluate scores beyond the input views: the expansion's virtual views (final field)
    and, for completion, the warm-up field at the first KEPT_REGION_VIEWS views with a region."""
    counts = {}
    if has_virtual_views(store):
        cams, _, _ = read_virtual_views(store)
        virtual = group.require_group(VIRTUAL_VIEWS)
        for k in tqdm(range(len(cams)), desc="render virtual views"):
            write_render(virtual, k, _render(field, cams.K[k], cams.c2w[k], cams.width[k], cams.height[k]))
        counts["virtual_views"] = len(cams)
    if inpaint_config(store).get("task") == "completion" and store.record(MASKS) is not None:
        dilated = load_masks(store, dilated=True)
        picks = [int(i) for i in indices if dilated[i].any()][:KEPT_REGION_VIEWS]
        warmup, cams = load_field(store, device, which="warmup"), views.cameras
        for i in tqdm(picks, desc="render warm-up field"):
            write_render(
                group.require_group(WARMUP_VIEWS),
                i,
                _render(warmup, cams.K[i], cams.c2w[i], cams.width[i], cams.height[i]),
            )
        counts["warmup_views"] = len(picks)
    return counts


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Views of other sizes are resized to the first view's, so the frames make one video."""
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _captured_comparison(
    views: PosedViews, indices: np.ndarray, renders: dict[int, dict], masks: list[np.ndarray] | None
) -> list[np.ndarray]:
    """Photo (mask outlined) | render, at each input camera, visited in path order."""
    order = indices[nearest_neighbour_order(views.cameras.centers[indices])]
    ref_w, ref_h = int(views.cameras.width[order[0]]), int(views.cameras.height[order[0]])
    frames = []
    for i in order:
        photo = views.image(int(i))
        if masks is not None and masks[i].any():
            photo = overlay_mask(photo, masks[i], alpha=0.0)
        rendered = renders[int(i)]["rgb"]
        frames.append(
            side_by_side([_fit(photo, ref_w, ref_h), _fit(rendered, ref_w, ref_h)], ["captured", "inpainted"])
        )
    return frames


def _compute(ctx: StageContext, config: Config) -> dict:
    store = ctx.store
    device = None if config.device == "auto" else config.device
    views = load_posed_views(store)
    indices = np.flatnonzero(views.registered)
    if len(indices) == 0:
        raise InputError(f"{store.url}: no registered views to render; rerun `inpaint3d poses`")
    masks = load_masks(store, dilated=False) if store.record(MASKS) is not None else None
    field = load_field(store, device)

    start = time.perf_counter()
    renders: dict[int, dict] = {}
    view_group = ctx.group.require_group(VIEWS)
    cams = views.cameras
    for i in tqdm(indices, desc="render input views"):
        out = _render(field, cams.K[i], cams.c2w[i], cams.width[i], cams.height[i])
        renders[int(i)] = out
        write_render(view_group, int(i), out)
    view_group.attrs["views"] = [int(i) for i in indices]
    ctx.timings["input_views_s"] = time.perf_counter() - start
    start = time.perf_counter()
    scored = _render_scored_extras(ctx.group, store, field, views, indices, device)
    ctx.timings["scored_extras_s"] = time.perf_counter() - start

    ref = int(indices[0])
    path = make_path(
        config.path,
        views.cameras.c2w[indices],
        views.cameras.K[ref],
        int(views.cameras.width[ref]),
        int(views.cameras.height[ref]),
        config.n_frames,
        out_width=config.width,
        focus_distance=spiral_focus(views.near_far[indices]),
    )
    path_group = ctx.group.require_group("path")
    path_group.create_array("K", data=path.K)
    path_group.create_array("c2w", data=path.c2w)
    path_group.attrs.update({"kind": config.path, "width": path.width, "height": path.height, "fps": config.fps})

    start = time.perf_counter()
    frames = render_path(field, path, "render camera path")
    ctx.timings["path_s"] = time.perf_counter() - start
    limits = depth_limits([f["depth"] for f in frames], [f["acc"] >= 0.5 for f in frames])
    rgb_frames = [f["rgb"] for f in frames]
    depth_frames = [colorize_depth(f["depth"], f["acc"], limits, config.depth_cmap) for f in frames]
    videos = {"rgb": encode_mp4(rgb_frames, config.fps), "depth": encode_mp4(depth_frames, config.fps)}

    before_field = _warmup_field(store, config, device)
    compare = "warmup" if before_field is not None else ("none" if config.compare == "none" else "captured")
    if before_field is not None:
        before = render_path(before_field, path, "render warm-up field")
        pairs = [side_by_side([b["rgb"], a], ["before", "after"]) for b, a in zip(before, rgb_frames, strict=True)]
        videos["compare"] = encode_mp4(pairs, config.fps)
    elif compare == "captured":
        fps = max(1.0, min(config.fps, len(indices) / 4.0))  # about four seconds through the photos
        videos["compare"] = encode_mp4(_captured_comparison(views, indices, renders, masks), fps)

    video_group = ctx.group.require_group("videos")
    for name, payload in videos.items():
        write_bytes(video_group, f"{name}.mp4", payload)
    ctx.group.attrs["videos"] = {name: f"videos/{name}.mp4" for name in videos}
    ctx.group.attrs["compare"] = compare
    if config.keep_frames:
        frame_group = ctx.group.require_group(FRAMES)
        write_views(frame_group, "rgb", rgb_frames)
        write_views(frame_group, "depth", depth_frames)
    return {
        "views": len(indices),
        "frames": len(frames),
        "size": f"{path.width}x{path.height}",
        "videos": sorted(videos),
        "compare": compare,
        **scored,
    }


def _warmup_field(store: SceneStore, config: Config, device: str | None):
    """The warm-up field when the comparison asks for it (an error names the stage to rerun if absent)."""
    if config.compare != "warmup":
        return None
    return load_field(store, device, which="warmup")


def run(store: SceneStore, config: Config, force: bool = False) -> StageResult:
    return run_stage(store, SPEC, config, lambda ctx: _compute(ctx, config), force)

"""The store layout: the names of every stage group and of what is inside, and the functions that
read them (and write the shared ones), so no other module types a group name, a key or the view
key format (`store.view_key`, arrays per view live under `<key>/<00000>`).

Store layout (the contract between stages):

ingest/
  images/<i>        uint8 (H, W, 3), EXIF-oriented, optionally downscaled
  gt_images/<i>     uint8 (H, W, 3) ground truth without the object, where the capture has it
  gt_masks/<i>      uint8 (H, W) ground-truth region masks (synthetic scenes, SPIn-NeRF test_label)
  gt_unseen/<i>     uint8 (H, W) the part of gt_masks no training view saw (SPIn-NeRF-shaped
                    synthetic captures' test_unseen), where the capture has it
  capture_files/<i> uint8 bytes of the capture's pose files and own mask folders (attrs paths:
                    each file's path relative to the capture), so no later stage reads the capture
  attrs: views = [{name, source, width, height, scale, role}], role in {"train", "test"};
         capture = capture folder path; skipped = [{file, reason}]; image_files = every image
         file of the views' folder, relative, sorted (LLFF's pose rows follow it)
poses/
  K (N,3,3) f64, c2w (N,4,4) f64 (OpenCV, normalised scene), registered (N,) bool,
  near_far (N,2) f32
  images/<i>        present only if the poses stage undistorted the images (then preferred)
  points/xyz (P,3) f32 normalised, points/rgb (P,3) u8,
  points/track_views (T,) i32 + points/track_offsets (P+1,) i64 (views seeing each point)
  attrs: normalization = {center, scale}, method, camera_model
masks/
  raw/<i>, dilated/<i>  uint8 (H, W), 1 = region to generate
  contact_sheet_png     PNG bytes: every view with its dilated mask (`write_masks`, one writer)
  attrs: method, area, dilated_area = [fraction per view], plus what the writer adds
inpaint/              (written by `stages.inpaint`, layout in its module doc)
  field_weights, warmup_field_weights, prior_weights (bytes), losses/<term>,
  depth_targets/<i>, sds_regions/<i>, expansion/ (virtual views: `write_virtual_views`)
render/               (written by `stages.render`, layout in its module doc)
  views/, virtual_views/, warmup_views/ {rgb,depth,acc}/<i> (`write_render`, `read_renders`),
  videos/<name>.mp4 (`read_videos`)
evaluate/             (written by `stages.evaluate` through `write_evaluation`)
  report.html (bytes), plots/<name>.png (bytes); attrs: metrics
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import zarr

from inpaint3d_core.cameras import Cameras, Normalization, VirtualCameras
from inpaint3d_core.errors import InputError
from inpaint3d_core.masks import morphology
from inpaint3d_core.masks.contact_sheet import contact_sheet
from inpaint3d_core.store import SceneStore, read_bytes, read_view, read_views, view_key, write_bytes, write_views

if TYPE_CHECKING:
    from inpaint3d_core.joint.expansion import VirtualViews

INGEST, POSES, MASKS, INPAINT, RENDER, EVALUATE = "ingest", "poses", "masks", "inpaint", "render", "evaluate"
CAPTURE_FILES = "capture_files"
CONTACT_SHEET = "contact_sheet_png"  # in the masks group
# In the inpaint group.
FIELD_KEY, WARMUP_FIELD_KEY, PRIOR_KEY = "field_weights", "warmup_field_weights", "prior_weights"
LOSSES, DEPTH_TARGETS, SDS_REGIONS, EXPANSION = "losses", "depth_targets", "sds_regions", "expansion"


@dataclass
class ViewInfo:
    name: str
    source: str
    width: int
    height: int
    role: str = "train"


@dataclass
class SparsePoints:
    xyz: np.ndarray
    rgb: np.ndarray
    track_views: np.ndarray
    track_offsets: np.ndarray

    def views_of(self, point: int) -> np.ndarray:
        return self.track_views[self.track_offsets[point] : self.track_offsets[point + 1]]


@dataclass
class PosedViews:
    """All ingested views with their cameras; `registered` says which have a valid pose."""

    views: list[ViewInfo]
    cameras: Cameras
    registered: np.ndarray
    near_far: np.ndarray
    normalization: Normalization
    _image_group: zarr.Group
    _ingest: zarr.Group

    def __len__(self) -> int:
        return len(self.views)

    def image(self, i: int) -> np.ndarray:
        return read_view(self._image_group, "images", i)

    def gt_image(self, i: int) -> np.ndarray | None:
        return _optional_view(self._ingest, "gt_images", i)

    def gt_mask(self, i: int) -> np.ndarray | None:
        return _optional_view(self._ingest, "gt_masks", i)

    def gt_unseen(self, i: int) -> np.ndarray | None:
        return _optional_view(self._ingest, "gt_unseen", i)

    def indices(self, role: str | None = "train") -> np.ndarray:
        """Registered views with the given role (None = any role)."""
        return np.array(
            [i for i, v in enumerate(self.views) if self.registered[i] and (role is None or v.role == role)],
            dtype=np.int64,
        )


def _optional_view(group: zarr.Group, key: str, i: int) -> np.ndarray | None:
    if key not in set(group.group_keys()):
        return None
    sub = group[key]
    name = view_key(i)
    return np.asarray(sub[name][...]) if name in set(sub.array_keys()) else None


def read_view_infos(store: SceneStore) -> list[ViewInfo]:
    ingest = store.read(INGEST)
    return [
        ViewInfo(v["name"], v["source"], int(v["width"]), int(v["height"]), v.get("role", "train"))
        for v in ingest.attrs["views"]
    ]


def load_posed_views(store: SceneStore) -> PosedViews:
    ingest = store.read(INGEST)
    poses = store.read(POSES)
    infos = read_view_infos(store)
    cameras = Cameras(
        K=np.asarray(poses["K"][...]),
        c2w=np.asarray(poses["c2w"][...]),
        width=np.array([v.width for v in infos]),
        height=np.array([v.height for v in infos]),
    )
    image_group = poses if "images" in set(poses.group_keys()) else ingest
    return PosedViews(
        views=infos,
        cameras=cameras,
        registered=np.asarray(poses["registered"][...]).astype(bool),
        near_far=np.asarray(poses["near_far"][...]),
        normalization=Normalization.from_dict(poses.attrs["normalization"]),
        _image_group=image_group,
        _ingest=ingest,
    )


def load_sparse_points(store: SceneStore) -> SparsePoints:
    pts = store.read(POSES)["points"]
    return SparsePoints(
        xyz=np.asarray(pts["xyz"][...]),
        rgb=np.asarray(pts["rgb"][...]),
        track_views=np.asarray(pts["track_views"][...]),
        track_offsets=np.asarray(pts["track_offsets"][...]),
    )


def load_masks(store: SceneStore, dilated: bool = True) -> list[np.ndarray]:
    group = store.read(MASKS)
    key = "dilated" if dilated else "raw"
    return [read_view(group, key, i) for i in range(int(group[key].attrs["count"]))]


def write_masks(
    group: zarr.Group,
    images: list[np.ndarray],
    names: list[str],
    raw: list[np.ndarray],
    dilated: list[np.ndarray],
    **attrs: Any,
) -> None:
    """The masks group, for every writer of it (the masks stage, expansion's empty masks, the
    synthetic scenes): raw and dilated masks, their areas, the contact sheet (each view's image
    with its dilated mask) and the writer's own attributes (method, ...)."""
    write_views(group, "raw", raw)
    write_views(group, "dilated", dilated)
    areas = [morphology.area_fraction(m) for m in raw]
    group.attrs.update({"area": areas, "dilated_area": [morphology.area_fraction(m) for m in dilated], **attrs})
    labels = [f"{name} {100 * a:.0f}%" for name, a in zip(names, areas, strict=True)]
    write_bytes(group, CONTACT_SHEET, contact_sheet(images, dilated, labels))


def read_contact_sheet(store: SceneStore) -> bytes:
    return read_bytes(store.read(MASKS), CONTACT_SHEET)


# ---------------------------------------------------------------------- the inpaint group
def inpaint_config(store: SceneStore) -> dict[str, Any]:
    """The inpaint stage's recorded config ({} when it has not run)."""
    record = store.record(INPAINT)
    return dict(record.config) if record is not None else {}


def read_field(store: SceneStore, which: Literal["final", "warmup"]) -> tuple[dict, dict, bytes]:
    """(field config, render settings, safetensors bytes) of the stored final or warm-up field."""
    group = store.read(INPAINT)
    key = FIELD_KEY if which == "final" else WARMUP_FIELD_KEY
    if key not in set(group.array_keys()):
        raise InputError(f"{store.url}: the inpaint result has no {which} field ('{key}'); rerun `inpaint3d inpaint`")
    return dict(group.attrs["field"]), dict(group.attrs["render"]), read_bytes(group, key)


def write_view_arrays(group: zarr.Group, key: str, arrays: dict[int, np.ndarray]) -> None:
    """Arrays of some views only (store view index -> array) under `key/<view>`."""
    sub = group.require_group(key)
    for view, array in arrays.items():
        sub.create_array(view_key(view), data=array, overwrite=True)


def read_view_arrays(store: SceneStore, key: str) -> dict[int, np.ndarray]:
    """The inpaint stage's per-view arrays `key/<view>` (SDS_REGIONS, DEPTH_TARGETS), if any."""
    if store.record(INPAINT) is None:
        return {}
    group = store.read(INPAINT)
    if key not in set(group.group_keys()):
        return {}
    return {int(name): np.asarray(group[key][name][...]) for name in group[key].array_keys()}


def read_losses(store: SceneStore) -> dict[str, np.ndarray]:
    """Loss curves the inpaint stage stored (`losses/<term>`), if any."""
    if store.record(INPAINT) is None:
        return {}
    group = store.read(INPAINT)
    if LOSSES not in set(group.group_keys()):
        return {}
    return {name: np.asarray(group[LOSSES][name][...]) for name in group[LOSSES].array_keys()}


def write_virtual_views(group: zarr.Group, virtual: VirtualViews, index: np.ndarray) -> None:
    """The expansion's virtual cameras, holes and warm-up renders under `expansion/`: K (V,3,3),
    c2w (V,4,4), size (V,2) width/height, source (V,) store view index of each one's appearance
    view (`index` maps training-view order to store indices), masks/<k>, warmup_rgb/<k>; attrs
    kind (per view) and hole_fraction."""
    out = group.require_group(EXPANSION)
    cams = virtual.cameras
    out.create_array("K", data=cams.K.astype(np.float64).reshape(-1, 3, 3), overwrite=True)
    out.create_array("c2w", data=cams.c2w.astype(np.float64).reshape(-1, 4, 4), overwrite=True)
    size = np.stack([cams.width, cams.height], -1).astype(np.int64).reshape(-1, 2)
    out.create_array("size", data=size, overwrite=True)
    out.create_array("source", data=np.asarray(index)[cams.source].astype(np.int64), overwrite=True)
    write_views(out, "masks", [h.astype(np.uint8) for h in virtual.holes])
    write_views(out, "warmup_rgb", virtual.images)
    out.attrs.update({"kind": list(cams.kind), "hole_fraction": virtual.hole_fraction()})


def has_virtual_views(store: SceneStore) -> bool:
    return store.record(INPAINT) is not None and EXPANSION in set(store.read(INPAINT).group_keys())


def read_virtual_views(store: SceneStore) -> tuple[VirtualCameras, list[np.ndarray], list[np.ndarray]]:
    """The expansion's virtual cameras (source = store view index), unobserved masks and warm-up renders."""
    if not has_virtual_views(store):
        raise InputError(f"{store.url}: the inpaint result has no virtual views; run inpaint with --task expansion")
    group = store.read(INPAINT)[EXPANSION]
    size = np.asarray(group["size"][...])
    cams = VirtualCameras(
        np.asarray(group["K"][...]),
        np.asarray(group["c2w"][...]),
        size[:, 0],
        size[:, 1],
        np.asarray(group["source"][...]),
        list(group.attrs["kind"]),
    )
    return cams, read_views(group, "masks"), read_views(group, "warmup_rgb")


# ---------------------------------------------------------------------- the render group
VIEWS, VIRTUAL_VIEWS, WARMUP_VIEWS = "views", "virtual_views", "warmup_views"
FRAMES = "frames"  # the camera path's frames, kept when the render config says keep_frames


def write_render(group: zarr.Group, index: int, render: dict[str, np.ndarray]) -> None:
    """One render under `group/{rgb,depth,acc}/<index>`: rgb uint8, depth and opacity float16."""
    arrays = {
        "rgb": render["rgb"],
        "depth": render["depth"].astype(np.float16),
        "acc": render["acc"].astype(np.float16),
    }
    for key, array in arrays.items():
        group.require_group(key).create_array(view_key(index), data=np.ascontiguousarray(array), chunks=array.shape)


def _read_render(group: zarr.Group, key: str) -> dict[str, np.ndarray]:
    return {
        "rgb": np.asarray(group["rgb"][key][...]),
        "depth": np.asarray(group["depth"][key][...]).astype(np.float32),
        "acc": np.asarray(group["acc"][key][...]).astype(np.float32),
    }


def read_renders(store: SceneStore, kind: str) -> dict[int, dict[str, np.ndarray]]:
    """What the render stage stored under `kind` (VIEWS, VIRTUAL_VIEWS, WARMUP_VIEWS) by index;
    {} when it rendered none of that kind."""
    group = store.read(RENDER)
    if kind not in set(group.group_keys()):
        return {}
    sub = group[kind]
    return {int(key): _read_render(sub, key) for key in sorted(sub["rgb"].array_keys())}


def read_videos(store: SceneStore) -> dict[str, bytes]:
    """{name: MP4 bytes} of the stored videos."""
    group = store.read(RENDER)
    return {name: read_bytes(group, key) for name, key in dict(group.attrs["videos"]).items()}


def rendered_indices(store: SceneStore) -> list[int]:
    return [int(i) for i in store.read(RENDER)[VIEWS].attrs["views"]]


def read_path_frames(store: SceneStore, kind: str) -> list[np.ndarray] | None:
    """The kept camera-path frames of `kind` ("rgb" or "depth", uint8); None when none were kept."""
    group = store.read(RENDER)
    if FRAMES not in set(group.group_keys()):
        return None
    return read_views(group[FRAMES], kind)


def read_view_render(store: SceneStore, index: int) -> dict[str, np.ndarray]:
    """rgb uint8, depth float32 and acc float32 rendered at input view `index`."""
    views = store.read(RENDER)[VIEWS]
    key = view_key(index)
    if key not in set(views["rgb"].array_keys()):
        raise InputError(f"{store.url}: view {index} was not rendered (it is not registered)")
    return _read_render(views, key)


def write_capture_files(group: zarr.Group, root: Path, files: list[Path]) -> None:
    """Copy `files` (inside the capture folder `root`) into the ingest group being written."""
    sub = group.require_group(CAPTURE_FILES)
    for i, path in enumerate(files):
        write_bytes(sub, view_key(i), path.read_bytes())
    sub.attrs.update({"count": len(files), "paths": [path.relative_to(root).as_posix() for path in files]})


@dataclass(frozen=True)
class CaptureCopy:
    """The capture files ingest copied into the store, written out under `root` for importers
    that read folders; `capture` is where the capture was when it was ingested."""

    root: Path
    capture: str

    def name(self, path: str | Path) -> str:
        """How a path inside the copy is named to the user: by its place in the original capture."""
        return str(path).replace(str(self.root), self.capture)


@contextmanager
def capture_copy(store: SceneStore) -> Iterator[CaptureCopy]:
    """A temporary folder holding the capture files ingest copied into the store, at their paths
    relative to the capture (empty when ingest copied none), so pose and mask importers work while
    the capture itself may be moved or deleted. Input errors raised inside name the original files."""
    ingest = store.read(INGEST)
    with tempfile.TemporaryDirectory(prefix="inpaint3d-capture-copy-") as tmp:
        copy = CaptureCopy(Path(tmp), str(ingest.attrs.get("capture", "the capture")))
        if CAPTURE_FILES in set(ingest.group_keys()):
            sub = ingest[CAPTURE_FILES]
            for i, rel in enumerate(sub.attrs["paths"]):
                target = copy.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(read_bytes(sub, view_key(i)))
        try:
            yield copy
        except InputError as exc:
            raise InputError(copy.name(exc)) from exc


# ---------------------------------------------------------------------- evaluate
METRICS_ATTR, REPORT_HTML, PLOTS = "metrics", "report.html", "plots"  # attrs key, bytes key, group


def write_evaluation(group: zarr.Group, metrics: dict, plots: dict[str, bytes], report_html: str) -> None:
    """The evaluate stage's result: metrics (attrs), plots/<name>.png and the report page."""
    group.attrs[METRICS_ATTR] = metrics
    plot_group = group.require_group(PLOTS)
    for name, png in plots.items():
        write_bytes(plot_group, f"{name}.png", png)
    write_bytes(group, REPORT_HTML, report_html.encode("utf-8"))


def read_metrics(store: SceneStore) -> dict:
    return dict(store.read(EVALUATE).attrs[METRICS_ATTR])


def read_report(store: SceneStore) -> bytes:
    return read_bytes(store.read(EVALUATE), REPORT_HTML)


def read_plots(store: SceneStore) -> dict[str, bytes]:
    plots = store.read(EVALUATE)[PLOTS]
    return {name: read_bytes(plots, name) for name in plots.array_keys()}

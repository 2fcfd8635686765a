"""Every export format: stored results written as files other tools read (videos, frames, a
point cloud, the report, masks, cameras as transforms.json or a COLMAP model, nerfstudio datasets).

Why here and not in the CLI: the `export` command, `evaluate --report-out`, `report` and the
Prefect flow's export task all write the same files, so the writers live in the library and the
commands only parse options. Heavy imports stay inside the functions (CLI start-up).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from inpaint3d_core.errors import InputError

if TYPE_CHECKING:
    from inpaint3d_core.store import SceneStore


class ExportFormat(StrEnum):
    transforms = "transforms"
    nerfstudio = "nerfstudio"
    nerfstudio_inpainted = "nerfstudio-inpainted"
    colmap = "colmap"
    video = "video"
    frames = "frames"
    ply = "ply"
    report = "report"
    masks = "masks"


def export_transforms(store: SceneStore, out: Path) -> Path:
    """Cameras only: a transforms.json in the capture's own coordinates (normalisation undone) whose
    file_path names each view's source file; `--format nerfstudio` writes a dataset to train on."""
    from inpaint3d_core.io.transforms_json import TransformsFrame, write_transforms
    from inpaint3d_core.scene import load_posed_views

    views = load_posed_views(store)
    c2w = views.normalization.invert_c2w(views.cameras.c2w)
    frames = [
        TransformsFrame(
            file_path=f"images/{Path(v.source).name}",
            K=views.cameras.K[i],
            c2w=c2w[i],
            width=v.width,
            height=v.height,
            distortion={},
        )
        for i, v in enumerate(views.views)
        if views.registered[i]
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_transforms(out, frames)
    return out


def export_colmap(store: SceneStore, out: Path) -> Path:
    """A capture folder `out/` COLMAP and `inpaint3d ingest` both read: `sparse/0/` (binary model,
    one PINHOLE camera per registered view, capture coordinates, the sparse points with one
    projected observation per track view) and `images/<name>.png` (the images the poses refer to,
    i.e. undistorted ones when the poses stage undistorted)."""
    import numpy as np

    from inpaint3d_core.io.colmap_model import N_DIST, CameraSet, SparseCloud, write_model
    from inpaint3d_core.io.images import write_image
    from inpaint3d_core.scene import load_posed_views, load_sparse_points

    views = load_posed_views(store)
    cloud = load_sparse_points(store)
    keep = views.registered
    index = {int(i): j for j, i in enumerate(views.indices(role=None))}
    names = [f"{views.views[i].name}.png" for i in index]
    (out / "images").mkdir(parents=True, exist_ok=True)
    for i, name in zip(index, names, strict=True):
        write_image(out / "images" / name, views.image(i))
    tracks = [[index[int(v)] for v in cloud.views_of(p) if keep[v]] for p in range(len(cloud.xyz))]
    seen = [p for p, t in enumerate(tracks) if t]
    cameras = CameraSet(
        names=names,
        K=views.cameras.K[keep],
        distortion=np.zeros((int(keep.sum()), N_DIST)),
        c2w=views.normalization.invert_c2w(views.cameras.c2w[keep]),
        width=views.cameras.width[keep],
        height=views.cameras.height[keep],
    )
    xyz = views.normalization.invert_points(cloud.xyz[seen].astype(np.float64))
    write_model(out / "sparse" / "0", cameras, SparseCloud.from_tracks(xyz, cloud.rgb[seen], [tracks[p] for p in seen]))
    return out


def export_nerfstudio(store: SceneStore, out: Path) -> Path:
    """A nerfstudio dataset of the captured training views: `out/images/`, `out/masks/` (0 = the
    region to generate, which nerfstudio then ignores) and `out/transforms.json`."""
    from inpaint3d_core.io.nerfstudio_export import write_nerfstudio_dataset
    from inpaint3d_core.scene import load_masks, load_posed_views

    views = load_posed_views(store)
    return write_nerfstudio_dataset(
        out,
        views,
        views.indices(role="train"),
        views.image,
        load_masks(store, dilated=True),
        description=f"captured training views of {store.url}; masks: 0 = the region inpaint3d generates",
    )


def export_nerfstudio_inpainted(store: SceneStore, out: Path) -> Path:
    """A nerfstudio dataset of the inpainted result: the render stage's renders at the input
    cameras as the images (no masks: every pixel is now the edited scene)."""
    from inpaint3d_core.io.nerfstudio_export import write_nerfstudio_dataset
    from inpaint3d_core.scene import RENDER, load_posed_views, read_view_render, rendered_indices

    if store.record(RENDER) is None:
        raise InputError(f"{store.url}: nothing rendered yet; run `inpaint3d render {store.url}` first")
    views = load_posed_views(store)
    return write_nerfstudio_dataset(
        out,
        views,
        rendered_indices(store),
        lambda i: read_view_render(store, i)["rgb"],
        description=f"inpainted renders of {store.url} at its input cameras",
    )


def export_report(store: SceneStore, out: Path) -> Path:
    """`out/report.html` (self-contained), `out/metrics.json` and `out/plots/<name>.png`."""
    from inpaint3d_core.scene import read_metrics, read_plots, read_report

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_bytes(read_report(store))
    (out / "metrics.json").write_text(json.dumps(read_metrics(store), indent=2))
    plots = read_plots(store)
    if plots:
        (out / "plots").mkdir(exist_ok=True)
        for name, png in plots.items():
            (out / "plots" / name).write_bytes(png)
    return out


def write_contact_sheet(store: SceneStore, out: Path) -> Path:
    from inpaint3d_core.scene import read_contact_sheet

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(read_contact_sheet(store))
    return out


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


def export_videos(store: SceneStore, out: Path) -> Path:
    """Every stored video as `out/<name>.mp4`."""
    from inpaint3d_core.scene import read_videos

    out.mkdir(parents=True, exist_ok=True)
    for name, payload in read_videos(store).items():
        (out / f"{name}.mp4").write_bytes(payload)
    return out


def export_frames(store: SceneStore, out: Path) -> Path:
    """The camera path's frames as PNG: `out/rgb/rgb_00000.png`, `out/depth/depth_00000.png`, ..."""
    from inpaint3d_core.media import write_png_frames
    from inpaint3d_core.scene import read_path_frames

    for key in ("rgb", "depth"):
        frames = read_path_frames(store, key)
        if frames is None:
            raise InputError(
                f"{store.url}: the render result kept no frames; "
                f"rerun `inpaint3d render {store.url} --keep-frames --force`"
            )
        write_png_frames(frames, out / key, prefix=key)
    return out


def export_ply(store: SceneStore, out: Path, voxel: float = 0.004) -> Path:
    """The inpainted field's visible surface as a coloured point cloud (PLY, capture coordinates):
    every rendered input view's opaque pixels unprojected along their rendered depth, merged on a
    voxel grid of `voxel` normalised-scene units (the scene spans about [-1, 1])."""
    import numpy as np

    from inpaint3d_core.pointcloud import unproject_depth, voxel_merge, write_ply
    from inpaint3d_core.scene import load_posed_views, read_view_render, rendered_indices

    views = load_posed_views(store)
    xyz_parts, rgb_parts = [], []
    for i in rendered_indices(store):
        r = read_view_render(store, i)
        xyz, rgb = unproject_depth(r["rgb"], r["depth"], views.cameras.K[i], views.cameras.c2w[i], r["acc"])
        xyz_parts.append(xyz)
        rgb_parts.append(rgb)
    xyz, rgb = voxel_merge(np.concatenate(xyz_parts), np.concatenate(rgb_parts), voxel)
    path = out if out.suffix.lower() == ".ply" else out / "inpainted.ply"
    return write_ply(path, views.normalization.invert_points(xyz), rgb)


EXPORTERS = {
    ExportFormat.transforms: export_transforms,
    ExportFormat.nerfstudio: export_nerfstudio,
    ExportFormat.nerfstudio_inpainted: export_nerfstudio_inpainted,
    ExportFormat.colmap: export_colmap,
    ExportFormat.video: export_videos,
    ExportFormat.frames: export_frames,
    ExportFormat.ply: export_ply,
    ExportFormat.report: export_report,
    ExportFormat.masks: export_masks,
}

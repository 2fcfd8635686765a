"""`inpaint3d export STORE --format F --out PATH`: hand stored results to other tools."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from flows.commands.evaluate_cmd import export_report
from flows.commands.inspect_cmd import open_existing_store
from flows.commands.masks_cmd import export_masks
from flows.commands.render_cmd import export_frames, export_ply, export_videos
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


def export(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL."),
    fmt: ExportFormat = typer.Option(..., "--format", help="What to export."),
    out: Path = typer.Option(..., "--out", help="Output file or folder."),
) -> None:
    """Export stored results (cameras, masks, renders) for other tools."""
    written = EXPORTERS[fmt](open_existing_store(store), out)
    typer.echo(f"wrote {written}")

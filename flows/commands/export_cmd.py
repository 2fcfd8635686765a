"""`inpaint3d export STORE --format F --out PATH`: hand stored results to other tools."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from flows.commands.evaluate_cmd import export_report
from flows.commands.inspect_cmd import open_existing_store
from flows.commands.render_cmd import export_frames, export_ply, export_videos
from inpaint3d_core.io.transforms_json import TransformsFrame, write_transforms
from inpaint3d_core.scene import load_posed_views
from inpaint3d_core.store import SceneStore


class ExportFormat(StrEnum):
    transforms = "transforms"
    video = "video"
    frames = "frames"
    ply = "ply"
    report = "report"


def export_transforms(store: SceneStore, out: Path) -> Path:
    """nerfstudio/instant-ngp transforms.json in the capture's own coordinates (normalisation undone)."""
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


EXPORTERS = {
    ExportFormat.transforms: export_transforms,
    ExportFormat.video: export_videos,
    ExportFormat.frames: export_frames,
    ExportFormat.ply: export_ply,
    ExportFormat.report: export_report,
}


def export(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL."),
    fmt: ExportFormat = typer.Option(..., "--format", help="What to export."),
    out: Path = typer.Option(..., "--out", help="Output file or folder."),
) -> None:
    """Export stored results (cameras, masks, renders) for other tools."""
    written = EXPORTERS[fmt](open_existing_store(store), out)
    typer.echo(f"wrote {written}")

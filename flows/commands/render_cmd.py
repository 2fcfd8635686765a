"""`inpaint3d render STORE`: videos and input-view renders of the inpainted field; render exporters."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from flows.commands.inspect_cmd import open_existing_store
from flows.commands.options import Option, OptionTable, stage_config, with_options
from inpaint3d_core.errors import InputError
from stages.configs.render import Config

if TYPE_CHECKING:
    from inpaint3d_core.store import SceneStore


OPTIONS = OptionTable(
    "render",
    Config,
    (
        Option("path"),
        Option("n_frames", ("--frames",)),
        Option("fps"),
        Option("width"),
        Option("compare"),
        Option("keep_frames"),
        Option("device"),
    ),
)


@with_options(OPTIONS)
def render(
    store: str = typer.Argument(..., help="Scene store path or fsspec URL (after `inpaint3d inpaint`)."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any field of the render config, FIELD=VALUE (YAML value; repeatable)."
    ),
    force: bool = typer.Option(False, "--force", help="Recompute even if the store has a current result."),
    *,
    options: dict,
) -> None:
    """Render the inpainted scene at the input cameras and along a smooth camera path."""
    config = stage_config(OPTIONS, options["render"], overrides)
    from stages import render as render_stage

    result = render_stage.run(open_existing_store(store), config, force=force)
    s = result.summary
    state = "up to date" if result.skipped else f"done in {result.seconds:.1f} s"
    typer.echo(
        f"render {state}: {s['views']} views, {s['frames']} path frames at {s['size']}, "
        f"videos {', '.join(s['videos'])} (compare: {s['compare']}); "
        f"write them out with `inpaint3d export {store} --format video --out DIR`"
    )


# ---------------------------------------------------------------------- exporters
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
    from inpaint3d_core.store import read_views
    from stages import render as render_stage

    group = store.read(render_stage.SPEC.name)
    if "frames" not in set(group.group_keys()):
        raise InputError(
            f"{store.url}: the render result kept no frames; rerun `inpaint3d render {store.url} --keep-frames --force`"
        )
    for key in ("rgb", "depth"):
        write_png_frames(read_views(group["frames"], key), out / key, prefix=key)
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

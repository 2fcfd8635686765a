"""`inpaint3d export --format nerfstudio|nerfstudio-inpainted`: a dataset folder whose paths resolve."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
from cli_runner import call_cli

from inpaint3d_core.scene import load_posed_views, read_view_render, rendered_indices


def _frames_resolve(root) -> list[dict]:
    meta = json.loads((root / "transforms.json").read_text())
    assert meta["camera_model"] == "OPENCV"
    for frame in meta["frames"]:
        assert iio.imread(root / frame["file_path"]).shape[:2] == (frame["h"], frame["w"])
        if "mask_path" in frame:
            assert iio.imread(root / frame["mask_path"]).shape == (frame["h"], frame["w"])
    return meta["frames"]


def test_export_nerfstudio_writes_images_masks_and_transforms(monkeypatch, capsys, synthetic_store, tmp_path):
    out = tmp_path / "dataset"
    args = ["export", synthetic_store.url, "--format", "nerfstudio", "--out", str(out)]
    code, stdout, _ = call_cli(monkeypatch, capsys, *args)
    assert code == 0 and "transforms.json" in stdout
    frames = _frames_resolve(out)
    train = load_posed_views(synthetic_store).indices(role="train")
    assert len(frames) == len(train) and all("mask_path" in f for f in frames)


def test_export_nerfstudio_inpainted_needs_renders(monkeypatch, capsys, synthetic_store, tmp_path):
    args = ["export", synthetic_store.url, "--format", "nerfstudio-inpainted", "--out", str(tmp_path / "d")]
    code, _, err = call_cli(monkeypatch, capsys, *args)
    assert code == 2 and "inpaint3d render" in err


def test_export_nerfstudio_inpainted_holds_the_renders(monkeypatch, capsys, synthetic_store, stand_in_field, tmp_path):
    import numpy as np

    from stages import render

    stand_in_field(final={})
    render.run(synthetic_store, render.Config(n_frames=2, compare="none", keep_frames=False))
    out = tmp_path / "inpainted"
    args = ["export", synthetic_store.url, "--format", "nerfstudio-inpainted", "--out", str(out)]
    code, _, err = call_cli(monkeypatch, capsys, *args)
    assert code == 0, err
    frames = _frames_resolve(out)
    assert len(frames) == len(rendered_indices(synthetic_store)) and "mask_path" not in frames[0]
    first = read_view_render(synthetic_store, rendered_indices(synthetic_store)[0])["rgb"]
    assert np.array_equal(iio.imread(out / frames[0]["file_path"]), first)


def test_export_masks_of_an_expansion_store(monkeypatch, capsys, synthetic_store, tmp_path):
    """Expansion alone writes empty masks through the masks group's one writer, contact sheet included."""
    from stages import unmasked

    unmasked.run(synthetic_store, unmasked.Config())
    out = tmp_path / "masks"
    code, _, err = call_cli(monkeypatch, capsys, "export", synthetic_store.url, "--format", "masks", "--out", str(out))
    assert code == 0, err
    views = load_posed_views(synthetic_store).views
    for folder in (out, out / "dilated"):
        masks = [folder / f"{Path(v.source).stem}.png" for v in views]
        assert not any(iio.imread(m).any() for m in masks)
    assert iio.imread(out / "contact_sheet.png").ndim == 3

"""`inpaint3d export --format nerfstudio|nerfstudio-inpainted`: a dataset folder whose paths resolve."""

from __future__ import annotations

import json

import imageio.v3 as iio
from cli_runner import call_cli

from inpaint3d_core.scene import load_posed_views


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
    assert len(frames) == len(render.rendered_indices(synthetic_store)) and "mask_path" not in frames[0]
    first = render.read_view_render(synthetic_store, render.rendered_indices(synthetic_store)[0])["rgb"]
    assert np.array_equal(iio.imread(out / frames[0]["file_path"]), first)

"""Ingest stage: layouts, EXIF and sizes, ground truth, SPIn-NeRF roles, video, and skipped files."""

from __future__ import annotations

import shutil
import sys
import warnings

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from flows.cli import main
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.images import write_image
from inpaint3d_core.scene import read_view_infos
from inpaint3d_core.store import SceneStore, read_view, read_views
from inpaint3d_core.synthetic import write_capture
from stages import ingest


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


def test_synthetic_capture_with_broken_files(tmp_path, synthetic_scene):
    capture = write_capture(synthetic_scene, tmp_path / "cap", with_poses=True)
    images = capture / "images"
    (images / "a_empty.png").write_bytes(b"")
    (images / "b_text.jpg").write_text("this is not a jpeg")
    (images / "notes.txt").write_text("hello")
    full = images / "view_000.png"
    (images / "c_cut.png").write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    store = SceneStore(tmp_path / "s.zarr")
    with pytest.warns(ingest.CaptureSkipWarning, match="a_empty.png"):
        result = ingest.run(store, ingest.Config(capture=str(capture)))
    assert result.summary["views"] == len(synthetic_scene) and result.summary["layout"] == "synthetic"
    group = store.read("ingest")
    skipped = {s["file"]: s["reason"] for s in group.attrs["skipped"]}
    assert set(skipped) == {"images/a_empty.png", "images/b_text.jpg", "images/notes.txt", "images/c_cut.png"}
    assert "empty" in skipped["images/a_empty.png"] and "not an image" in skipped["images/notes.txt"]
    assert np.array_equal(np.stack(read_views(group, "images")), synthetic_scene.images)
    assert np.array_equal(np.stack(read_views(group, "gt_images")), synthetic_scene.gt_images)
    assert np.array_equal(np.stack(read_views(group, "gt_masks")), synthetic_scene.masks)
    infos = read_view_infos(store)
    assert [v.name for v in infos] == synthetic_scene.names
    assert infos[0].source == "images/view_000.png" and group.attrs["views"][0]["scale"] == 1.0
    assert group.attrs["pose_sources"] == {"transforms": "transforms.json"}


def test_exif_orientation_downscale_and_per_view_sizes(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 8
    capture = tmp_path / "photos"
    capture.mkdir()
    Image.fromarray(_noise(300, 400)).save(capture / "a.jpg", exif=exif)  # displayed as 300 wide, 400 high
    write_image(capture / "b.png", _noise(200, 400, 1))
    write_image(capture / "c.png", _noise(100, 100, 2))
    store = SceneStore(tmp_path / "s.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing here may be reported as skipped
        ingest.run(store, ingest.Config(capture=str(capture), max_side=200))
    views = store.read("ingest").attrs["views"]
    assert [(v["width"], v["height"]) for v in views] == [(150, 200), (200, 100), (100, 100)]
    assert [v["scale"] for v in views] == [0.5, 0.5, 1.0]
    assert views[0]["orientation"] == 8
    assert read_view(store.read("ingest"), "images", 0).shape == (200, 150, 3)


def test_too_few_usable_views_is_exit_code_2_naming_the_count(tmp_path, monkeypatch, capsys):
    capture = tmp_path / "photos"
    capture.mkdir()
    write_image(capture / "a.png", _noise(20, 20))
    write_image(capture / "b.png", _noise(20, 20, 1))
    (capture / "c.png").write_bytes(b"")
    with pytest.raises(InputError, match=r"only 2 usable view\(s\), at least 3"):
        ingest.run(SceneStore(tmp_path / "s.zarr"), ingest.Config(capture=str(capture)))
    monkeypatch.setattr(sys, "argv", ["inpaint3d", "ingest", str(capture), "--store", str(tmp_path / "t.zarr")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "only 2 usable" in capsys.readouterr().err


def test_spinnerf_layout_roles_and_ground_truth(tmp_path):
    folder = tmp_path / "images_4"
    (folder / "label").mkdir(parents=True)
    (folder / "test_label").mkdir()
    (folder / "test_unseen").mkdir()
    for i in range(5):
        write_image(folder / f"img{i}.png", _noise(24, 32, i))
        mask = np.zeros((24, 32), np.uint8)
        mask[5:10, 5 + i : 12 + i] = 255
        write_image(folder / ("test_label" if i < 2 else "label") / f"img{i}.png", np.repeat(mask[..., None], 3, 2))
        if i < 2:
            mask[:, : 8 + i] = 0  # the part of the test mask no training view saw
            write_image(folder / "test_unseen" / f"img{i}.png", np.repeat(mask[..., None], 3, 2))
    np.save(tmp_path / "poses_bounds.npy", np.zeros((5, 17)))
    store = SceneStore(tmp_path / "s.zarr")
    result = ingest.run(store, ingest.Config(capture=str(tmp_path), protocol="spinnerf", n_gt=2))
    assert result.summary["test_views"] == 2 and result.summary["layout"] == "llff"
    group = store.read("ingest")
    assert [v["role"] for v in group.attrs["views"]] == ["test", "test", "train", "train", "train"]
    assert sorted(group["gt_images"].array_keys()) == ["00000", "00001"]
    assert np.array_equal(read_view(group, "gt_images", 1), read_view(group, "images", 1))
    assert read_view(group, "gt_masks", 1).sum() == 5 * 7
    assert sorted(group["gt_masks"].array_keys()) == ["00000", "00001"]
    assert sorted(group["gt_unseen"].array_keys()) == ["00000", "00001"]
    assert read_view(group, "gt_unseen", 1).sum() == 5 * 4
    with pytest.raises(InputError, match="SPIn-NeRF protocol needs an LLFF capture"):
        ingest.run(SceneStore(tmp_path / "t.zarr"), ingest.Config(capture=str(folder), protocol="spinnerf"))


def test_video_capture_becomes_frames(tmp_path):
    frames = np.stack([np.roll(_noise(48, 64), 4 * i, axis=1) for i in range(30)])
    iio.imwrite(tmp_path / "clip.mp4", frames, fps=10, codec="libx264", quality=10)
    store = SceneStore(tmp_path / "s.zarr")
    result = ingest.run(store, ingest.Config(capture=str(tmp_path / "clip.mp4"), video_frames=5, max_side=32))
    views = store.read("ingest").attrs["views"]
    assert result.summary["layout"] == "video" and len(views) == 5
    assert views[0]["name"].startswith("frame_") and views[0]["source"].startswith("clip.mp4#frame=")
    assert (views[0]["width"], views[0]["height"]) == (32, 24)


@pytest.mark.parametrize(
    ("preset", "max_side", "expected"),
    [("quick", None, (ingest.QUICK_MAX_SIDE, 150)), ("full", None, (1008, 945)), ("quick", 504, (504, 472))],
)
def test_quick_preset_picks_its_resolution_and_says_so(tmp_path, preset, max_side, expected):
    """A quick (CPU) job on ~1000 px photos works at QUICK_MAX_SIDE unless max_side is given."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        write_image(folder / f"p{i}.png", _noise(945, 1008, seed=i))
    store = SceneStore(tmp_path / "s.zarr")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ingest.run(store, ingest.Config(capture=str(folder), preset=preset, max_side=max_side))
    view = read_view(store.read("ingest"), "images", 0)
    assert (view.shape[1], view.shape[0]) == expected
    said = preset == "quick" and max_side is None
    assert ("downscaled_to" in result.summary) == said
    assert any("preset quick works at" in str(w.message) for w in caught) == said


def test_a_store_reruns_every_stage_after_its_capture_is_deleted(tmp_path, synthetic_scene):
    """Ingest copies what the later stages read (the pose file, the capture's masks) into the
    store, so deleting the capture breaks no rerun."""
    from stages import evaluate, inpaint, masks, poses, render

    capture = write_capture(synthetic_scene, tmp_path / "cap", with_poses=True)
    store = SceneStore(tmp_path / "s.zarr")
    ingest.run(store, ingest.Config(capture=str(capture)))
    later = [
        (poses, poses.Config()),
        (masks, masks.Config()),
        (inpaint, inpaint.Config(method="recon_only", steps_scale=0.01)),
        (render, render.Config(n_frames=2, compare="none")),
        (evaluate, evaluate.Config(stills=1)),
    ]
    first = [stage.run(store, config) for stage, config in later]
    assert first[0].summary["method"] == "import-transforms" and first[1].summary["method"] == "import"
    c2w, dilated = np.asarray(store.read("poses")["c2w"][...]), read_views(store.read("masks"), "dilated")

    shutil.rmtree(capture)
    again = [stage.run(store, config, force=True) for stage, config in later]
    assert not any(result.skipped for result in again)
    assert [r.summary["method"] for r in again[:2]] == [r.summary["method"] for r in first[:2]]
    assert np.array_equal(store.read("poses")["c2w"][...], c2w)
    assert all(np.array_equal(a, b) for a, b in zip(read_views(store.read("masks"), "dilated"), dilated, strict=True))

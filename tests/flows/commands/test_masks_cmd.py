"""`inpaint3d masks` and `inpaint3d export --format masks`, and the mask values shared with `run`."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
from cli_runner import call_cli

from flows.commands.masks_cmd import OPTIONS, mask_values
from flows.commands.options import stage_config
from inpaint3d_core.scene import load_masks


def masks_config(given=None, *args, overrides=()):
    return stage_config(OPTIONS, mask_values(given or {}, *args), overrides)


def test_prompt_file_clicks_and_boxes_become_one_typed_config(tmp_path):
    prompt_file = tmp_path / "job.yaml"
    prompt_file.write_text("prompts:\n  - view: IMG_1\n    points: [[10, 20]]\n    labels: [1]\ndilate_px: 7\n")
    given = {"sam_checkpoint": "sam.pth"}
    config = masks_config(given, str(prompt_file), ["IMG_1:30,40:0", "IMG_2:5,6"], ["IMG_2:1,2,30,40"])
    by_view = {p.view: p for p in config.prompts}
    assert by_view["IMG_1"].points == ((10, 20), (30, 40)) and by_view["IMG_1"].labels == (1, 0)
    assert by_view["IMG_2"].box == (1, 2, 30, 40) and config.dilate_px == 7
    assert masks_config({"dilate_px": 3}, str(prompt_file)).dilate_px == 3  # an option beats the file


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sphere", "1,2,3"], "--sphere"),
        (["--point", "IMG_1:1,2:7"], "--point"),
        (["--method", "sam"], "needs prompts"),
        (["--method", "lasso"], "--method"),
        (["--dilate", "-1"], "--dilate"),
        (["--sam-prompt", "/nonexistent/prompts.yaml"], "does not exist"),
    ],
)
def test_bad_options_are_exit_2_naming_the_option(monkeypatch, capsys, tmp_path, args, message):
    code, _, err = call_cli(monkeypatch, capsys, "masks", str(tmp_path / "none.zarr"), *args)
    assert code == 2 and message in err


def test_masks_command_then_export(monkeypatch, capsys, synthetic_store, synthetic_scene, tmp_path):
    obj = synthetic_scene.object
    sphere = ",".join(str(v) for v in (*obj.center, obj.radius))
    code, out, err = call_cli(monkeypatch, capsys, "masks", synthetic_store.url, "--sphere", sphere, "--dilate", "1")
    assert code == 0, err
    assert "8/8 views masked" in out
    sheet = tmp_path / "scene.zarr.masks.png"
    assert sheet.is_file() and iio.imread(sheet).ndim == 3

    out_dir = tmp_path / "exported"
    code, _, err = call_cli(
        monkeypatch, capsys, "export", synthetic_store.url, "--format", "masks", "--out", str(out_dir)
    )
    assert code == 0, err
    raw = load_masks(synthetic_store, dilated=False)
    first = iio.imread(out_dir / f"{synthetic_scene.names[0]}.png")
    assert np.array_equal(first > 0, raw[0] > 0)
    assert len(list((out_dir / "dilated").glob("*.png"))) == len(raw)
    assert (out_dir / "contact_sheet.png").is_file()


def test_missing_sam_checkpoint_is_exit_2(monkeypatch, capsys, synthetic_store, tmp_path):
    code, _, err = call_cli(
        monkeypatch, capsys, "masks", synthetic_store.url, "--sam-checkpoint", str(tmp_path / "sam_vit_h.pth"),
        "--point", "0:20,15",
    )  # fmt: skip
    assert code == 2 and "sam_vit_h.pth" in err and "segment-anything" in err


def test_set_reaches_any_field_and_the_sam_options_have_one_name_scheme(
    monkeypatch, capsys, synthetic_store, synthetic_scene
):
    obj = synthetic_scene.object
    sphere = ",".join(str(v) for v in (*obj.center, obj.radius))
    code, _, err = call_cli(
        monkeypatch, capsys, "masks", synthetic_store.url, "--sphere", sphere, "--set", "dilate_px=2"
    )
    assert code == 0, err
    assert synthetic_store.record("masks").config["dilate_px"] == 2
    code, _, err = call_cli(monkeypatch, capsys, "masks", synthetic_store.url, "--set", "render.n_frames=3")
    assert code == 2 and "inpaint3d masks" in err
    code, _, err = call_cli(monkeypatch, capsys, "masks", synthetic_store.url, "--box", "v:1,2,3,4")
    assert code == 2  # the 2D SAM box is --sam-box now; --box no longer collides with --box-3d
    config = masks_config({"sam_checkpoint": "sam.pth"}, None, [], ["IMG_2:1,2,30,40"], overrides=["sam_model=vit_b"])
    assert config.sam_model == "vit_b" and config.prompts[0].box == (1, 2, 30, 40)

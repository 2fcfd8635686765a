"""`inpaint3d masks` and `inpaint3d export --format masks`, and the reusable option parser."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
from cli_runner import call_cli

from flows.commands.masks_cmd import masks_config
from inpaint3d_core.errors import InputError
from inpaint3d_core.scene import load_masks


def test_options_become_a_typed_config(tmp_path):
    prompt_file = tmp_path / "job.yaml"
    prompt_file.write_text("prompts:\n  - view: IMG_1\n    points: [[10, 20]]\n    labels: [1]\ndilate_px: 7\n")
    config = masks_config(
        sam_checkpoint="sam.pth",
        prompt_file=str(prompt_file),
        points=["IMG_1:30,40:0", "IMG_2:5,6"],
        boxes=["IMG_2:1,2,30,40"],
    )
    by_view = {p.view: p for p in config.prompts}
    assert by_view["IMG_1"].points == ((10, 20), (30, 40)) and by_view["IMG_1"].labels == (1, 0)
    assert by_view["IMG_2"].box == (1, 2, 30, 40) and config.dilate_px == 7
    assert masks_config(sphere="0,0,0.35,0.4", dilate_px=3).sphere == (0, 0, 0.35, 0.4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sphere": "1,2,3"}, "--sphere"),
        ({"points": ["IMG_1:1,2:7"]}, "--point"),
        ({"method": "sam"}, "needs prompts"),
        ({"prompt_file": "/nonexistent/prompts.yaml"}, "does not exist"),
    ],
)
def test_bad_options_are_input_errors_naming_the_option(kwargs, message):
    with pytest.raises(InputError, match=message):
        masks_config(**kwargs)


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
    config = masks_config(sam_checkpoint="sam.pth", boxes=["IMG_2:1,2,30,40"], overrides=["sam_model=vit_b"])
    assert config.sam_model == "vit_b" and config.prompts[0].box == (1, 2, 30, 40)

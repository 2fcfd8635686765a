"""Tasks as job values and checks, and the task metrics on exact or hand-made renders."""

import numpy as np
import pytest

from inpaint3d_core.edit_tasks import apply_task, check_inpaint_task, needs_object_masks
from inpaint3d_core.errors import InputError
from inpaint3d_core.task_metrics import kept_region_psnr, masked_psnr, opacity_coverage, region_consistency


def test_every_task_sets_the_inpaint_task_and_keeps_other_values():
    values = {"preset": "quick", "masks": {"sphere": [0, 0, 0.5, 0.2]}, "inpaint": {"steps_scale": 0.5}}
    for task in ("removal", "completion", "expansion"):
        out = apply_task(values, task)
        assert out["inpaint"] == {"steps_scale": 0.5, "task": task} and out["masks"] == values["masks"]
    assert values["inpaint"] == {"steps_scale": 0.5}  # the caller's values are not changed


def test_replacement_defaults_to_the_text_conditioned_prior_and_needs_a_prompt():
    out = apply_task({"inpaint": {"prior": {"prompt": "a red vase"}}}, "replacement")
    assert out["inpaint"]["prior"] == {"prompt": "a red vase", "kind": "stable_diffusion"}
    with pytest.raises(InputError, match="--prompt"):
        apply_task({"inpaint": {}}, "replacement")
    with pytest.raises(InputError, match="internal prior has no text input"):
        apply_task({"inpaint": {"prior": {"kind": "internal", "prompt": "a red vase"}}}, "replacement")
    with pytest.raises(InputError, match="--method joint"):
        apply_task({"inpaint": {"prior": {"prompt": "a vase"}, "method": "per_view"}}, "replacement")


def test_completion_needs_an_explicit_region_and_unknown_tasks_are_named():
    with pytest.raises(InputError, match="--sphere"):
        apply_task({"masks": {"dilate_px": 3}}, "completion")
    assert apply_task({"masks": {"reference_masks": ["m.png"]}}, "completion")["inpaint"]["task"] == "completion"
    with pytest.raises(InputError, match="choose one of removal, completion, replacement, expansion"):
        apply_task({}, "outpaint")
    with pytest.raises(InputError, match="expansion: needs --method joint"):
        check_inpaint_task("expansion", "classical", "internal", "")
    check_inpaint_task("removal", "classical", "internal", "")


def _render(rgb, acc, depth=2.0, shape=(8, 10)):
    return {
        "rgb": np.full((*shape, 3), rgb, np.float32),
        "acc": np.full(shape, acc, np.float32),
        "depth": np.full(shape, depth),
    }


def test_opacity_coverage_and_psnr_over_regions():
    region = np.zeros((8, 10), np.uint8)
    region[2:6, 3:7] = 1
    half = _render(0.5, 1.0)
    half["acc"][2:4, 3:7] = 0.2
    assert opacity_coverage([half, _render(0.5, 1.0)], [region, region]) == pytest.approx(0.75)
    assert opacity_coverage([half], [np.zeros_like(region)]) is None

    final, reference = _render(0.5, 1.0), _render(0.5, 1.0)
    final["rgb"][region > 0] = 0.9  # only the region changed
    assert np.isinf(kept_region_psnr([final], [reference], [region]))
    final["rgb"][0, 0] = 0.6  # one kept pixel off by 0.1: MSE = 0.01 / 64 kept pixels
    assert kept_region_psnr([final], [reference], [region]) == pytest.approx(10 * np.log10(64 / 0.01), rel=1e-4)
    truth = np.full((8, 10, 3), 230, np.uint8)  # 0.902 in the region
    assert masked_psnr([final], [truth], [region]) > 40.0
    assert masked_psnr([final], [truth], [np.zeros_like(region)]) is None


def test_region_consistency_of_exact_renders_is_near_zero(synthetic_scene, synthetic_store):
    from inpaint3d_core.scene import load_posed_views
    from inpaint3d_core.synthetic import ExactRenderer

    views = load_posed_views(synthetic_store)
    oracle = ExactRenderer(synthetic_scene, views.normalization, with_object=True)
    cams = views.cameras
    picks = [0, 1, 2]
    renders = [oracle.render_view(cams.K[i], cams.c2w[i], 48, 36) for i in picks]
    regions = [synthetic_scene.masks[i] for i in picks]
    result = region_consistency(renders, regions, cams.K[picks], cams.c2w[picks])
    assert result["pairs"] > 0 and result["photometric_l1"] < 0.05 and result["depth_error"] < 0.01
    assert region_consistency(renders[:1], regions[:1], cams.K[:1], cams.c2w[:1]) is None


def test_only_expansion_alone_needs_no_object_masks():
    assert not needs_object_masks({"inpaint": {"task": "expansion"}})
    assert needs_object_masks({"inpaint": {"task": "expansion"}, "masks": {"sphere": [0, 0, 0, 1]}})
    assert needs_object_masks({"inpaint": {"task": "expansion", "expansion": {"object_masks": "inpaint"}}})
    assert needs_object_masks({"inpaint": {"task": "removal"}}) and needs_object_masks({})


def test_unmasked_stage_writes_empty_masks_in_the_masks_layout(synthetic_store):
    from inpaint3d_core.scene import load_masks
    from stages import unmasked

    result = unmasked.run(synthetic_store, unmasked.Config())
    assert result.summary == {"method": "none", "views": 8, "reason": "expansion"}
    masks = load_masks(synthetic_store, dilated=True)
    assert len(masks) == 8 and masks[0].shape == (36, 48) and not any(m.any() for m in masks)

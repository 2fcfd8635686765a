"""Masks stage on the tiny synthetic store: every method writes raw/dilated masks for every view."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
from pydantic import ValidationError

from inpaint3d_core.errors import InputError
from inpaint3d_core.masks import morphology
from inpaint3d_core.scene import CONTACT_SHEET, load_masks, load_posed_views
from inpaint3d_core.segment import SamArchitecture, SamSegmenter, build_sam, save_sam
from inpaint3d_core.store import read_bytes
from stages import masks as masks_stage
from stages.masks import Config


def _truth(store):
    views = load_posed_views(store)
    return views, [views.gt_mask(i) for i in range(len(views))]


def _ious(store, truth, dilated=False):
    return np.array([morphology.iou(m, t) for m, t in zip(load_masks(store, dilated=dilated), truth, strict=True)])


def test_reference_mask_file_is_propagated_and_stored(synthetic_store, tmp_path):
    views, truth = _truth(synthetic_store)
    ref = tmp_path / f"{views.views[0].name}_mask.png"
    iio.imwrite(ref, truth[0] * 255)
    result = masks_stage.run(synthetic_store, Config(reference_masks=(str(ref),), dilate_px=2))
    summary = result.summary
    assert summary["method"] == "propagate" and summary["masked_views"] == len(views)
    ious = _ious(synthetic_store, truth)
    assert ious[0] == 1.0 and ious.mean() >= 0.8, ious.round(2)
    group = synthetic_store.read("masks")
    assert group.attrs["source"][0] == "reference" and len(group.attrs["area"]) == len(views)
    raw, dilated = load_masks(synthetic_store, dilated=False), load_masks(synthetic_store)
    assert all(d.sum() > r.sum() and (d >= r).all() and d.dtype == np.uint8 for r, d in zip(raw, dilated, strict=True))
    sheet = iio.imread(read_bytes(group, CONTACT_SHEET), extension=".png")
    assert sheet.ndim == 3 and sheet.shape[0] >= 192
    assert masks_stage.run(synthetic_store, Config(reference_masks=(str(ref),), dilate_px=2)).skipped


def test_sphere_in_capture_coordinates_matches_the_object(synthetic_store, synthetic_scene):
    _, truth = _truth(synthetic_store)
    obj = synthetic_scene.object
    masks_stage.run(synthetic_store, Config(sphere=(*obj.center, obj.radius), dilate_px=0))
    ious = _ious(synthetic_store, truth)
    assert ious.min() >= 0.85, ious.round(2)
    assert np.array_equal(load_masks(synthetic_store), load_masks(synthetic_store, dilated=False))


def test_import_refuses_or_reports_views_without_masks(synthetic_store, tmp_path):
    views, truth = _truth(synthetic_store)
    folder = tmp_path / "masks"
    folder.mkdir()
    for i in range(0, len(views), 2):
        iio.imwrite(folder / f"{views.views[i].name}.png", truth[i] * 255)
    unmasked = [views.views[i].name for i in range(1, len(views), 2)]
    with pytest.raises(InputError, match=f"{len(unmasked)} view.*no mask file.*{unmasked[0]}"):
        masks_stage.run(synthetic_store, Config(mask_dir=str(folder)))
    summary = masks_stage.run(synthetic_store, Config(mask_dir=str(folder), missing_masks="unmasked")).summary
    assert summary["method"] == "import"
    assert summary["unmasked_views"] == [views.views[i].name for i in range(1, len(views), 2)]
    assert _ious(synthetic_store, truth)[::2].min() == 1.0
    assert load_masks(synthetic_store, dilated=False)[1].sum() == 0


def test_polygon_on_one_view_is_propagated(synthetic_store):
    views, truth = _truth(synthetic_store)
    ys, xs = np.nonzero(truth[0])
    box = [(xs.min() + 1, ys.min() + 1), (xs.max(), ys.min() + 1), (xs.max(), ys.max()), (xs.min() + 1, ys.max())]
    drawing = {"view": views.views[0].name, "polygons": [box]}
    summary = masks_stage.run(synthetic_store, Config(method="polygon", drawings=(drawing,))).summary
    assert summary["sources"]["reference"] == 1 and summary["masked_views"] == len(views)


def test_sam_prompts_with_a_tiny_checkpoint(synthetic_store, tmp_path, monkeypatch):
    """Plumbing: the prompt reaches a real (tiny, random) SAM loaded from a checkpoint file. Its
    answer is meaningless, so after checking it the ground truth stands in for it."""
    views, truth = _truth(synthetic_store)
    checkpoint = save_sam(build_sam(SamArchitecture(32, 2, 2, (1,))), tmp_path / "tiny.pth")
    ys, xs = np.nonzero(truth[0])
    box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
    calls = []
    real_segment = SamSegmenter.segment

    def checked_segment(self, image, prompt):
        mask, score = real_segment(self, image, prompt)
        calls.append((image.shape, mask.shape, prompt.box.tolist(), prompt.points.tolist()))
        return truth[0] > 0, score

    monkeypatch.setattr(SamSegmenter, "segment", checked_segment)
    prompt = {"view": views.views[0].name, "box": box, "points": [(xs.mean(), ys.mean())], "labels": [1]}
    config = Config(method="sam", sam_checkpoint=str(checkpoint), prompts=(prompt,), sam_refine=False)
    summary = masks_stage.run(synthetic_store, config).summary
    h, w = truth[0].shape
    assert len(calls) == 1 and calls[0][:3] == ((h, w, 3), (h, w), list(box))
    np.testing.assert_allclose(calls[0][3], [[xs.mean(), ys.mean()]], rtol=1e-6)
    assert summary["method"] == "sam" and summary["masked_views"] == len(views)
    assert _ious(synthetic_store, truth).mean() >= 0.8


def test_empty_and_inverted_masks_are_errors(synthetic_store, tmp_path):
    before = synthetic_store.record("masks").fingerprint
    with pytest.raises(InputError, match="every mask is empty"):
        masks_stage.run(synthetic_store, Config(sphere=(500.0, 500.0, 500.0, 0.1)))
    views, _ = _truth(synthetic_store)
    folder = tmp_path / "inverted"
    folder.mkdir()
    for v in views.views:
        iio.imwrite(folder / f"{v.name}.png", np.full((v.height, v.width), 255, np.uint8))
    with pytest.raises(InputError, match="inverted"):
        masks_stage.run(synthetic_store, Config(mask_dir=str(folder)))
    assert synthetic_store.record("masks").fingerprint == before  # the old result is untouched


def test_auto_without_any_source_says_what_to_pass(synthetic_store):
    with pytest.raises(InputError, match="--mask-dir"):
        masks_stage.run(synthetic_store, Config())


def test_config_checks_each_method_has_its_inputs():
    with pytest.raises(ValidationError, match="needs prompts and sam_checkpoint"):
        Config(method="sam", prompts=({"view": "0", "points": [(1, 2)], "labels": [1]},))
    with pytest.raises(ValidationError, match="radius"):
        Config(sphere=(0, 0, 0, -1))
    with pytest.raises(ValidationError):
        Config(method="lasso")


def test_propagated_masks_much_larger_than_the_reference_are_reported(synthetic_store, tmp_path, monkeypatch, caplog):
    """A propagation that spreads onto the background (here: every view's mask doubled in
    area around the truth) is named in the summary, the notes and a warning line."""
    views, truth = _truth(synthetic_store)
    ref = tmp_path / f"{views.views[0].name}_mask.png"
    iio.imwrite(ref, truth[0] * 255)
    real_propagate = masks_stage.propagate

    def spreading(*args, **kwargs):
        result = real_propagate(*args, **kwargs)
        result.masks[1:] = [morphology.dilate(m, 6) for m in result.masks[1:]]
        return result

    monkeypatch.setattr(masks_stage, "propagate", spreading)
    with caplog.at_level("WARNING", logger="stages.masks"):
        summary = masks_stage.run(synthetic_store, Config(reference_masks=(str(ref),), dilate_px=2)).summary
    assert summary["max_area_vs_reference"] > 1.5 and len(summary["grown_views"]) == len(views) - 1
    assert any("may have spread onto the background" in n for n in synthetic_store.read("masks").attrs["notes"])
    assert "may have spread onto the background" in caplog.text


def test_propagated_masks_of_the_reference_size_are_not_reported(synthetic_store, tmp_path):
    views, truth = _truth(synthetic_store)
    ref = tmp_path / f"{views.views[0].name}_mask.png"
    iio.imwrite(ref, truth[0] * 255)
    summary = masks_stage.run(synthetic_store, Config(reference_masks=(str(ref),), dilate_px=2)).summary
    assert summary["grown_views"] == [] and summary["max_area_vs_reference"] < 1.5

"""SAM wrapper: a tiny random SAM built with segment-anything's builder goes through the real loading path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint3d_core.errors import InputError
from inpaint3d_core.segment import (
    OFFICIAL_ARCHITECTURES,
    SAM_CHECKPOINTS_URL,
    SamArchitecture,
    SamPrompt,
    SamSegmenter,
    architecture_from_state_dict,
    build_sam,
    load_sam,
    save_sam,
)

TINY = SamArchitecture(embed_dim=32, depth=2, num_heads=2, global_attn_indexes=(1,))


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    return save_sam(build_sam(TINY), tmp_path_factory.mktemp("sam") / "tiny_sam.pth")


def test_official_architectures_are_recognised_from_their_state_dicts():
    # vit_b is the smallest official model; building it checks the shape-reading rules on a real layout.
    state = build_sam(OFFICIAL_ARCHITECTURES["vit_b"]).state_dict()
    assert architecture_from_state_dict(state) == OFFICIAL_ARCHITECTURES["vit_b"]


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_save_load_roundtrip_keeps_weights(tmp_path, suffix):
    model = build_sam(TINY)
    path = save_sam(model, tmp_path / f"sam{suffix}")
    loaded = load_sam(path, device="cpu")
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)


def test_segment_returns_a_mask_of_the_image_size(tiny_checkpoint):
    segmenter = SamSegmenter(load_sam(tiny_checkpoint, device="cpu"))
    image = (np.random.default_rng(0).random((40, 56, 3)) * 255).astype(np.uint8)
    mask, score = segmenter.segment(image, SamPrompt(points=[[20, 10], [5, 5]], labels=[1, 0], box=[10, 5, 40, 30]))
    assert mask.shape == (40, 56) and mask.dtype == bool
    assert np.isfinite(score)
    single, _ = segmenter.segment(image, SamPrompt(points=[[20, 10]], labels=[1]))
    assert single.shape == (40, 56)


def test_missing_checkpoint_names_the_file_and_where_to_get_one(tmp_path):
    with pytest.raises(InputError) as err:
        load_sam(tmp_path / "sam_vit_h_4b8939.pth")
    assert "sam_vit_h_4b8939.pth" in str(err.value) and SAM_CHECKPOINTS_URL in str(err.value)


def test_model_type_must_match_the_checkpoint(tiny_checkpoint):
    with pytest.raises(InputError, match="not vit_b"):
        load_sam(tiny_checkpoint, model_type="vit_b")


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"model": object()}, path)
    with pytest.raises(InputError, match="weights-only"):
        load_sam(path)


@pytest.mark.parametrize(
    "points, labels, box",
    [([[1, 2]], [1, 0], None), ([[1, 2]], [2], None), ([], [], None), ([], [], [5, 5, 1, 1])],
)
def test_bad_prompts_are_input_errors(points, labels, box):
    with pytest.raises(InputError):
        SamPrompt(points=points, labels=labels, box=box)

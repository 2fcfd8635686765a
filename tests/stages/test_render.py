"""Render stage on the tiny synthetic store, the exact scene standing in for the trained field."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.media import decode_mp4
from inpaint3d_core.scene import load_posed_views
from stages import render


def test_render_stores_views_path_frames_and_playable_videos(synthetic_store, synthetic_scene, stand_in_field):
    fields = stand_in_field(warmup={"with_object": True})
    result = render.run(synthetic_store, render.Config(n_frames=5, fps=5, width=32, path="orbit"))
    assert result.summary["compare"] == "warmup" and result.summary["size"] == "32x24"
    n = len(synthetic_scene)
    assert render.rendered_indices(synthetic_store) == list(range(n))
    view = render.read_view_render(synthetic_store, 2)
    np.testing.assert_array_equal(view["rgb"], synthetic_scene.gt_images[2])  # stored exactly (uint8)
    norm = load_posed_views(synthetic_store).normalization
    np.testing.assert_allclose(view["depth"], synthetic_scene.gt_depth[2] * norm.scale, rtol=2e-3)  # float16
    videos = render.read_videos(synthetic_store)
    assert sorted(videos) == ["compare", "depth", "rgb"]
    rgb = decode_mp4(videos["rgb"])
    assert len(rgb) == 5 and rgb[0].shape == (24, 32, 3)
    compare = decode_mp4(videos["compare"])
    assert len(compare) == 5 and compare[0].shape == (24, 66, 3)  # before | 2 px gap | after
    group = synthetic_store.read("render")
    assert group["path/c2w"].shape == (5, 4, 4) and int(group["frames/rgb"].attrs["count"]) == 5
    assert fields["final"].calls == n + 5 and fields["warmup"].calls == 5


def test_without_warmup_field_the_photos_are_the_before(synthetic_store, synthetic_scene, stand_in_field):
    stand_in_field(warmup=None)
    result = render.run(synthetic_store, render.Config(n_frames=3, keep_frames=False, path="interpolate"))
    assert result.summary["compare"] == "captured"
    compare = decode_mp4(render.read_videos(synthetic_store)["compare"])
    assert len(compare) == len(synthetic_scene) and compare[0].shape == (36, 98, 3)
    assert "frames" not in set(synthetic_store.read("render").group_keys())
    with pytest.raises(InputError, match="warmup"):
        render.run(synthetic_store, render.Config(n_frames=3, compare="warmup"))


def test_render_needs_the_inpaint_result(synthetic_store):
    with pytest.raises(InputError, match="inpaint"):
        render.run(synthetic_store, render.Config(n_frames=3))

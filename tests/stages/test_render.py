"""Render stage on the tiny synthetic store, with the exact scene standing in for the trained field."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.media import decode_mp4
from inpaint3d_core.scene import load_posed_views
from inpaint3d_core.stage import StageConfig, StageSpec, run_stage
from stages import render


class ExactSceneField:
    """Renders the synthetic world itself (object removed, or kept for the 'before' field), in the
    store's normalised coordinates: the same `render_view` contract as a trained field."""

    def __init__(self, scene, normalization, with_object=False):
        self.scene, self.norm, self.with_object = scene, normalization, with_object
        self.calls = 0

    def render_view(self, K, c2w, width, height, chunk=8192):
        self.calls += 1
        view = self.scene.world.render(
            K, self.norm.invert_c2w(c2w), width, height, supersample=self.scene.config.supersample
        )
        rgb = view.rgb if self.with_object else view.gt_rgb
        depth = view.depth if self.with_object else view.gt_depth
        return {"rgb": rgb / 255.0, "depth": depth * self.norm.scale, "acc": np.ones(depth.shape, np.float32)}


def add_fake_inpaint(store):
    """A complete `inpaint` record, so the render stage's upstream exists (weights come from the stand-in)."""
    run_stage(store, StageSpec("inpaint", 1, upstream=("ingest", "poses", "masks")), StageConfig(), lambda ctx: {})


@pytest.fixture
def rendered_store(synthetic_store, synthetic_scene, monkeypatch):
    add_fake_inpaint(synthetic_store)
    norm = load_posed_views(synthetic_store).normalization
    fields = {
        "final": ExactSceneField(synthetic_scene, norm),
        "warmup": ExactSceneField(synthetic_scene, norm, with_object=True),
    }
    monkeypatch.setattr(render, "load_field", lambda store, device, which="final": fields[which])
    return synthetic_store, fields


def test_render_stores_views_path_frames_and_playable_videos(rendered_store, synthetic_scene):
    store, fields = rendered_store
    result = render.run(store, render.Config(n_frames=5, fps=5, width=32, path="orbit"))
    assert result.summary["compare"] == "warmup" and result.summary["size"] == "32x24"
    n = len(synthetic_scene)
    assert render.rendered_indices(store) == list(range(n))
    view = render.read_view_render(store, 2)
    np.testing.assert_array_equal(view["rgb"], synthetic_scene.gt_images[2])  # stored exactly (uint8)
    norm = load_posed_views(store).normalization
    np.testing.assert_allclose(view["depth"], synthetic_scene.gt_depth[2] * norm.scale, rtol=2e-3)
    videos = render.read_videos(store)
    assert sorted(videos) == ["compare", "depth", "rgb"]
    rgb = decode_mp4(videos["rgb"])
    assert len(rgb) == 5 and rgb[0].shape == (24, 32, 3)
    compare = decode_mp4(videos["compare"])
    assert len(compare) == 5 and compare[0].shape == (24, 66, 3)  # before | 2 px gap | after
    group = store.read("render")
    assert group["path/c2w"].shape == (5, 4, 4) and int(group["frames/rgb"].attrs["count"]) == 5
    assert fields["final"].calls == n + 5 and fields["warmup"].calls == 5


def test_without_warmup_field_the_photos_are_the_before(rendered_store, monkeypatch, synthetic_scene):
    store, fields = rendered_store

    def final_only(store, device, which="final"):
        if which == "warmup":
            raise InputError("no warm-up field stored")
        return fields["final"]

    monkeypatch.setattr(render, "load_field", final_only)
    result = render.run(store, render.Config(n_frames=3, keep_frames=False, path="interpolate"))
    assert result.summary["compare"] == "captured"
    compare = decode_mp4(render.read_videos(store)["compare"])
    assert len(compare) == len(synthetic_scene) and compare[0].shape == (36, 98, 3)
    assert "frames" not in set(store.read("render").group_keys())
    with pytest.raises(InputError, match="warm-up"):
        render.run(store, render.Config(n_frames=3, compare="warmup"))


def test_render_needs_the_inpaint_result(synthetic_store):
    with pytest.raises(InputError, match="inpaint"):
        render.run(synthetic_store, render.Config(n_frames=3))

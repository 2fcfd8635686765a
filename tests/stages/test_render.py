"""Render stage on the tiny synthetic store, the exact scene standing in for the trained field."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.media import decode_mp4
from inpaint3d_core.scene import load_posed_views, read_videos, read_view_render, rendered_indices
from stages import render


def test_render_stores_views_path_frames_and_playable_videos(synthetic_store, synthetic_scene, stand_in_field):
    fields = stand_in_field(warmup={"with_object": True})
    result = render.run(synthetic_store, render.Config(n_frames=5, fps=5, width=32, path="orbit", compare="warmup"))
    assert result.summary["compare"] == "warmup" and result.summary["size"] == "32x24"
    n = len(synthetic_scene)
    assert rendered_indices(synthetic_store) == list(range(n))
    view = read_view_render(synthetic_store, 2)
    np.testing.assert_array_equal(view["rgb"], synthetic_scene.gt_images[2])  # stored exactly (uint8)
    norm = load_posed_views(synthetic_store).normalization
    np.testing.assert_allclose(view["depth"], synthetic_scene.gt_depth[2] * norm.scale, rtol=2e-3)  # float16
    videos = read_videos(synthetic_store)
    assert sorted(videos) == ["compare", "depth", "rgb"]
    rgb = decode_mp4(videos["rgb"])
    assert len(rgb) == 5 and rgb[0].shape == (24, 32, 3)
    compare = decode_mp4(videos["compare"])
    assert len(compare) == 5 and compare[0].shape == (24, 66, 3)  # before | 2 px gap | after
    group = synthetic_store.read("render")
    assert group["path/c2w"].shape == (5, 4, 4) and int(group["frames/rgb"].attrs["count"]) == 5
    assert fields["final"].calls == n + 5 and fields["warmup"].calls == 5


def test_by_default_the_photos_are_the_before(synthetic_store, synthetic_scene, stand_in_field):
    fields = stand_in_field(warmup={"with_object": True})
    result = render.run(synthetic_store, render.Config(n_frames=3, keep_frames=False, path="interpolate"))
    assert result.summary["compare"] == "captured" and fields["warmup"].calls == 0
    compare = decode_mp4(read_videos(synthetic_store)["compare"])
    assert len(compare) == len(synthetic_scene) and compare[0].shape == (36, 98, 3)


def test_without_warmup_field_asking_for_it_names_the_field(synthetic_store, synthetic_scene, stand_in_field):
    stand_in_field(warmup=None)
    result = render.run(synthetic_store, render.Config(n_frames=3, keep_frames=False, path="interpolate"))
    assert result.summary["compare"] == "captured"
    compare = decode_mp4(read_videos(synthetic_store)["compare"])
    assert len(compare) == len(synthetic_scene) and compare[0].shape == (36, 98, 3)
    assert "frames" not in set(synthetic_store.read("render").group_keys())
    with pytest.raises(InputError, match="warmup"):
        render.run(synthetic_store, render.Config(n_frames=3, compare="warmup"))


def test_render_needs_the_inpaint_result(synthetic_store):
    with pytest.raises(InputError, match="inpaint"):
        render.run(synthetic_store, render.Config(n_frames=3))


def test_render_loads_a_stored_radiance_field_through_load_trained(synthetic_store, synthetic_scene):
    """The real loading path: field weights (safetensors bytes) and configs as the inpaint stage stores them."""
    import torch

    from inpaint3d_core.config_types import StageConfig
    from inpaint3d_core.nerf.config import FieldConfig, RenderSettings
    from inpaint3d_core.nerf.field import RadianceField
    from inpaint3d_core.nerf.trained import field_to_bytes
    from inpaint3d_core.scene import FIELD_KEY
    from inpaint3d_core.stage import StageSpec, run_stage
    from inpaint3d_core.store import write_bytes

    torch.manual_seed(0)
    config = FieldConfig(
        levels=2,
        log2_table_size=8,
        base_resolution=4,
        max_resolution=16,
        hidden_dim=8,
        color_hidden_dim=8,
        color_layers=1,
        sh_degree=1,
    )
    settings = RenderSettings(sampler="stratified", num_coarse=4, num_fine=0)

    def fake_inpaint(ctx):
        write_bytes(ctx.group, FIELD_KEY, field_to_bytes(RadianceField(config)))
        ctx.group.attrs.update({"field": config.model_dump(mode="json"), "render": settings.model_dump(mode="json")})
        return {}

    run_stage(
        synthetic_store, StageSpec("inpaint", 1, upstream=("ingest", "poses", "masks")), StageConfig(), fake_inpaint
    )
    result = render.run(synthetic_store, render.Config(n_frames=2, device="cpu", keep_frames=False))
    assert result.summary["compare"] == "captured"  # no warm-up field stored
    view = read_view_render(synthetic_store, 0)
    assert view["rgb"].shape == synthetic_scene.images[0].shape and view["rgb"].dtype == np.uint8
    assert np.isfinite(view["depth"]).all() and ((view["acc"] >= 0) & (view["acc"] <= 1.001)).all()

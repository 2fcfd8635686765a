"""Render and evaluate on CUDA through the real field loader (nerfacc occupancy sampler)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.media import decode_mp4
from inpaint3d_core.nerf.config import FieldConfig, RenderSettings
from inpaint3d_core.nerf.field import RadianceField
from inpaint3d_core.nerf.trained import field_to_bytes
from inpaint3d_core.scene import FIELD_KEY, WARMUP_FIELD_KEY, read_metrics, read_videos, read_view_render
from inpaint3d_core.stage import StageSpec, run_stage
from inpaint3d_core.store import write_bytes
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene
from stages import evaluate, render

pytestmark = pytest.mark.gpu


def test_render_and_evaluate_on_cuda_with_occupancy_sampler(tmp_path, make_synthetic_store):
    scene = generate_scene(SyntheticConfig.preset("full", n_views=12))
    store = make_synthetic_store(tmp_path / "scene.zarr", scene)
    torch.manual_seed(0)
    config = FieldConfig()
    settings = RenderSettings(sampler="auto")

    def fake_inpaint(ctx):  # random fields stored the way the inpaint stage stores them
        write_bytes(ctx.group, FIELD_KEY, field_to_bytes(RadianceField(config)))
        write_bytes(ctx.group, WARMUP_FIELD_KEY, field_to_bytes(RadianceField(config)))
        ctx.group.attrs.update({"field": config.model_dump(mode="json"), "render": settings.model_dump(mode="json")})
        return {}

    run_stage(store, StageSpec("inpaint", 1, upstream=("ingest", "poses", "masks")), StageConfig(), fake_inpaint)
    result = render.run(store, render.Config(n_frames=24, device="cuda", compare="warmup"))
    assert result.summary["compare"] == "warmup"
    record = store.record("render")
    print(f"render timings on {torch.cuda.get_device_name()}: {record.timings}")
    frames = decode_mp4(read_videos(store)["rgb"])
    assert len(frames) == 24 and frames[0].shape == (scene.config.height, scene.config.width, 3)
    view = read_view_render(store, 0)
    assert np.isfinite(view["depth"]).all()
    evaluate.run(store, evaluate.Config())
    metrics = read_metrics(store)
    assert len(metrics["per_view"]) == 12 and metrics["mean"]["full"]["psnr"] > 0

import numpy as np
import pytest
import torch
from pydantic import BaseModel

from inpaint3d_core.cameras import intrinsics, look_at
from inpaint3d_core.errors import InputError
from inpaint3d_core.nerf.config import FieldConfig, RenderSettings
from inpaint3d_core.nerf.field import RadianceField
from inpaint3d_core.nerf.trained import TrainedRadianceField, field_to_bytes, load_trained
from inpaint3d_core.scene import FIELD_KEY
from inpaint3d_core.stage import StageSpec, run_stage
from inpaint3d_core.store import SceneStore, write_bytes

TINY = FieldConfig(
    levels=4, log2_table_size=10, max_resolution=64, hidden_dim=16, color_hidden_dim=16, appearance_dim=4, num_views=3
)
SETTINGS = RenderSettings(sampler="stratified", near=0.1, far=3.0, num_coarse=8, num_fine=8)


class _Empty(BaseModel):
    pass


def _write_inpaint_group(store, field):
    def compute(ctx):
        write_bytes(ctx.group, FIELD_KEY, field_to_bytes(field))
        ctx.group.attrs["field"] = field.config.model_dump(mode="json")
        ctx.group.attrs["render"] = SETTINGS.model_dump(mode="json")
        return {}

    run_stage(store, StageSpec("inpaint", 1), _Empty(), compute)


def test_load_trained_renders_exactly_what_was_stored(tmp_path):
    torch.manual_seed(0)
    field = RadianceField(TINY)
    with torch.no_grad():
        field.encoding.table.normal_(0, 1.0)
        field.appearance.weight.normal_()
    store = SceneStore(tmp_path / "scene.zarr")
    _write_inpaint_group(store, field)

    K, c2w = intrinsics(10.0, 8, 6), look_at(np.array([0.0, -2.0, 0.5]), np.zeros(3))
    expected = TrainedRadianceField(field, SETTINGS, torch.device("cpu")).render_view(K, c2w, 8, 6, view_id=1)
    loaded = load_trained(store, device="cpu")
    got = loaded.render_view(K, c2w, 8, 6, view_id=1)
    for key in ("rgb", "depth", "acc"):
        np.testing.assert_allclose(got[key], expected[key], atol=1e-6)
    # the mean appearance code (novel views) differs from a specific view's code
    assert not np.allclose(loaded.render_view(K, c2w, 8, 6)["rgb"], got["rgb"])


def test_load_trained_without_warmup_field_is_a_clear_error(tmp_path):
    store = SceneStore(tmp_path / "scene.zarr")
    _write_inpaint_group(store, RadianceField(TINY))
    with pytest.raises(InputError, match="warmup"):
        load_trained(store, device="cpu", which="warmup")

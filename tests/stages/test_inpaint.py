"""The inpaint stage on the tiny synthetic store: every method, the stored outputs, resume, errors."""

import numpy as np
import pytest
import torch

from inpaint3d_core.errors import InputError
from inpaint3d_core.nerf.trained import load_trained
from inpaint3d_core.scene import load_posed_views
from inpaint3d_core.store import read_views
from stages import inpaint as stage

# 6 steps (3 of warm-up, a checkpoint after each), 64 rays: seconds on 2 CPU cores. SDS over the
# whole mask: after 3 warm-up steps the visibility split (tested on its own below) is arbitrary.
TOY = dict(steps_scale=0.015, rays_per_batch=64, prior={"internal_preset": "tiny"}, device="cpu", sds_region="mask")


def _render_view0(store, which="final"):
    posed = load_posed_views(store)
    model = load_trained(store, device="cpu", which=which)
    w, h = posed.views[0].width, posed.views[0].height
    return model.render_view(posed.cameras.K[0], posed.cameras.c2w[0], w, h)


def test_joint_with_internal_prior_stores_a_loadable_field_and_its_artifacts(synthetic_store):
    result = stage.run(synthetic_store, stage.Config(**TOY))
    summary = result.summary
    assert summary["method"] == "joint" and summary["steps"] == 6 and summary["skipped_steps"] == 0
    assert summary["device"] == "cpu" and summary["final_losses"]["sds"] is not None
    group = synthetic_store.read("inpaint")
    assert set(group["losses"].array_keys()) == {
        "rgb",
        "sds",
        "depth",
        "freespace",
        "opacity",
        "virtual_opacity",
        "total",
    }
    assert group["losses"]["rgb"].shape == (6,)
    assert "prior_weights" in set(group.array_keys())
    assert len(list(group["depth_targets"].array_keys())) > 0
    assert "sds_regions" not in set(group.group_keys()) and "generative_fraction" not in summary
    final, warmup = _render_view0(synthetic_store), _render_view0(synthetic_store, "warmup")
    assert final["rgb"].shape == (36, 48, 3) and np.isfinite(final["depth"]).all()
    assert not np.allclose(final["rgb"], warmup["rgb"])
    # the same config again is a cache hit
    assert stage.run(synthetic_store, stage.Config(**TOY)).skipped


@pytest.mark.parametrize("method", ["recon_only", "classical"])
def test_baseline_methods_go_through_the_same_stage(synthetic_store, method):
    stage.run(synthetic_store, stage.Config(method=method, **TOY))
    group = synthetic_store.read("inpaint")
    assert "warmup_field_weights" not in set(group.array_keys())
    assert np.isnan(np.asarray(group["losses"]["sds"][...])).all()
    if method == "classical":
        filled = read_views(group, "filled_images")
        assert len(filled) == 8 and filled[0].dtype == np.uint8
    assert _render_view0(synthetic_store)["rgb"].shape == (36, 48, 3)


def test_per_view_baseline_fills_with_the_prior(synthetic_store):
    stage.run(synthetic_store, stage.Config(method="per_view", **TOY))
    group = synthetic_store.read("inpaint")
    assert "prior_weights" in set(group.array_keys())
    posed = load_posed_views(synthetic_store)
    masks = synthetic_store.read("masks")
    hole = np.asarray(masks["dilated"]["00000"][...]) > 0
    filled = read_views(group, "filled_images")[0]
    np.testing.assert_array_equal(filled[~hole], posed.image(0)[~hole])


def test_joint_step_with_a_tiny_stable_diffusion_checkpoint(synthetic_store, tmp_path):
    from sd_models import build_tiny_sd_inpaint_pipeline

    folder = build_tiny_sd_inpaint_pipeline(tmp_path / "tiny-sd")
    prior = {"kind": "stable_diffusion", "model": str(folder), "prompt": "a wooden floor"}
    config = stage.Config(**{**TOY, "prior": prior})
    result = stage.run(synthetic_store, config)
    sds = np.asarray(synthetic_store.read("inpaint")["losses"]["sds"][...])
    assert np.isfinite(sds[3::2]).all() and result.summary["skipped_steps"] == 0  # SDS every 2nd joint step


def test_killed_run_resumes_from_the_stage_checkpoint(synthetic_store, monkeypatch):
    class Crashing(stage.JointTrainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.after_step = self._crash

        def _crash(self, step):
            if step == 3:
                raise KeyboardInterrupt

    config = stage.Config(method="recon_only", **TOY)
    monkeypatch.setattr(stage, "JointTrainer", Crashing)
    with pytest.raises(KeyboardInterrupt):
        stage.run(synthetic_store, config)
    assert synthetic_store.record("inpaint") is None
    monkeypatch.undo()
    result = stage.run(synthetic_store, config)
    assert result.summary["resumed_from"] == 4  # the checkpoint written after step 3


def test_full_preset_without_cuda_and_prompt_with_internal_prior_are_clear_errors(synthetic_store):
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="full.*CUDA"):
            stage.run(synthetic_store, stage.Config(preset="full"))
    with pytest.raises(InputError, match="internal prior has no text input"):
        stage.run(synthetic_store, stage.Config(**{**TOY, "prior": {"internal_preset": "tiny", "prompt": "a chair"}}))


def test_sampler_override_replaces_only_the_presets_sampler():
    default = stage.joint_config(stage.Config(preset="thorough"))
    chosen = stage.joint_config(stage.Config(preset="thorough", sampler="stratified"))
    assert default.render.sampler == "auto" and chosen.render.sampler == "stratified"
    assert chosen.render.model_dump(exclude={"sampler"}) == default.render.model_dump(exclude={"sampler"})
    with pytest.raises(ValueError, match="sampler"):
        stage.Config(sampler="marching")


def test_random_background_is_on_by_default_and_reaches_the_trainer():
    assert stage.joint_config(stage.Config()).random_background
    assert not stage.joint_config(stage.Config(random_background=False)).random_background


def test_default_sds_region_is_the_part_of_each_hole_no_other_view_observes(synthetic_store):
    summary = stage.run(synthetic_store, stage.Config(**{**TOY, "sds_region": "unobserved"})).summary
    group = synthetic_store.read("inpaint")
    regions = group["sds_regions"]
    assert set(regions.array_keys()) == set(group["depth_targets"].array_keys())
    dilated = synthetic_store.read("masks")["dilated"]
    for name in regions.array_keys():
        region = np.asarray(regions[name][...]) > 0
        assert not (region & ~(np.asarray(dilated[name][...]) > 0)).any()  # inside the view's hole
    assert 0.0 <= summary["generative_fraction"] <= 1.0
    assert stage.Config().sds_region == "unobserved"

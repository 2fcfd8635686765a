import numpy as np
import pytest
import torch
import zarr

from inpaint3d_core.joint.checkpoint import CheckpointStore
from inpaint3d_core.joint.trainer import JointTrainer, TrainingDivergedError
from inpaint3d_core.nerf.trained import TrainedRadianceField


def _trainer(tiny_views, config, prior=None, checkpoints=None, after_step=None):
    views, near, far = tiny_views
    return JointTrainer(views, config, prior, torch.device("cpu"), near, far, checkpoints, after_step)


def _known_mse(trainer, views) -> float:
    """MSE of the current field on every known pixel of view 0 (a fixed evaluation set)."""
    model = TrainedRadianceField(trainer.field, trainer.render_settings, torch.device("cpu"), trainer.sampler)
    h, w = views.holes[0].shape
    out = model.render_view(views.K[0], views.c2w[0], w, h, view_id=0)
    known = ~views.holes[0]
    return float(((out["rgb"] - views.images[0] / 255.0) ** 2)[known].mean())


def test_joint_loop_lowers_reconstruction_loss_and_runs_every_term(tiny_views, tiny_config, stub_prior):
    config = tiny_config(steps=96)  # 48 of warm-up (random backgrounds: the field must turn opaque first)
    trainer = _trainer(tiny_views, config, stub_prior)
    before = _known_mse(trainer, tiny_views[0])
    result = trainer.run()
    after = _known_mse(trainer, tiny_views[0])
    assert after < 0.6 * before, (after, before)
    assert np.isfinite(result.losses["rgb"]).all()
    joint = slice(config.warmup_steps, config.steps)
    for term in ("depth", "freespace", "opacity"):
        assert np.isnan(result.losses[term][: config.warmup_steps]).all()
        assert np.isfinite(result.losses[term][joint]).all()
    assert np.isfinite(result.losses["sds"][joint][:: config.sds_every]).all()
    # the prior saw crops at its resolution, with the hole blanked in the condition
    shapes = {call[:3] for call in stub_prior.calls}
    assert shapes == {((1, 3, 16, 16), (1, 3, 16, 16), (1, 1, 16, 16))}
    progress = [call[3] for call in stub_prior.calls]
    assert progress[0] == 0.0 and progress == sorted(progress) and progress[-1] <= 1.0
    assert result.warmup_field is not None and result.depth_targets
    assert result.bad_steps == 0


def test_recon_only_never_sees_hole_pixels(tiny_views, tiny_config):
    views, near, far = tiny_views
    trainer = JointTrainer(views, tiny_config(steps=12), None, torch.device("cpu"), near, far)
    known = trainer.bank.known
    hole = torch.from_numpy(np.flatnonzero(np.concatenate([h.ravel() for h in views.holes])))
    assert not np.isin(known.numpy(), hole.numpy()).any()
    result = trainer.run()
    assert np.isnan(result.losses["sds"]).all() and np.isnan(result.losses["depth"]).all()
    assert result.warmup_field is None


def test_interrupted_run_resumes_from_its_checkpoint_and_matches_an_uninterrupted_one(tiny_views, tiny_config):
    config = tiny_config(steps=24, checkpoint_every=10)
    reference = _trainer(tiny_views, config).run()

    store = CheckpointStore(zarr.open_group(zarr.storage.MemoryStore(), mode="w"))

    def crash(step):
        if step == 13:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _trainer(tiny_views, config, checkpoints=store, after_step=crash).run()
    assert store.latest().step == 10
    resumed = _trainer(tiny_views, config, checkpoints=store).run()
    assert resumed.resumed_from == 10
    np.testing.assert_allclose(resumed.losses["rgb"], reference.losses["rgb"], rtol=1e-5)
    for name, value in reference.field.state_dict().items():
        torch.testing.assert_close(resumed.field.state_dict()[name], value)


def test_resume_after_warmup_restores_depth_targets(tiny_views, tiny_config, stub_prior):
    config = tiny_config(steps=24, checkpoint_every=16)  # warm-up 12
    store = CheckpointStore(zarr.open_group(zarr.storage.MemoryStore(), mode="w"))

    def crash(step):
        if step == 18:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _trainer(tiny_views, config, stub_prior, store, crash).run()
    resumed = _trainer(tiny_views, config, stub_prior, store).run()
    assert resumed.resumed_from == 16
    assert resumed.warmup_field is not None and resumed.depth_targets
    assert np.isfinite(resumed.losses["depth"][16:]).all()


def test_hole_terms_on_unobserved_pixels_draw_hole_rays_from_the_sds_regions_only(tiny_views, tiny_config, stub_prior):
    config = tiny_config(steps=24, hole_terms="unobserved")  # warm-up 12
    trainer = _trainer(tiny_views, config, stub_prior)
    result = trainer.run()
    offsets = trainer.bank.offsets.tolist()
    expected = {offsets[view] + int(p) for view, region in result.sds_regions.items() for p in np.flatnonzero(region)}
    assert set(trainer.bank.hole_pool.tolist()) == expected and len(expected) < len(trainer.bank.hole)
    # hole terms exist exactly when some hole pixel is unobserved (an all-observed hole needs none)
    assert np.isfinite(result.losses["depth"][12:]).all() == bool(expected)


class _NaNPrior:
    resolution = 16

    def sds_loss(self, rendered, cond_image, mask, progress):
        from inpaint3d_core.priors.base import SDSOutput

        return SDSOutput(loss=rendered.sum() * float("nan"), grad_norm=float("nan"), timestep=0)


def test_nan_steps_are_skipped_then_stop_the_run_with_a_clear_error(tiny_views, tiny_config):
    # whole-mask SDS: a 5-step warm-up is too rough for the visibility split to leave a region
    config = tiny_config(steps=18, warmup_steps=5, max_bad_steps=4, sds_every=1, sds_region="mask")
    with pytest.raises(TrainingDivergedError, match="NaN/inf.*lower lr"):
        _trainer(tiny_views, config, _NaNPrior()).run()
    # occasional NaNs are skipped and counted
    config = tiny_config(steps=18, warmup_steps=5, max_bad_steps=100, sds_every=4, sds_region="mask")
    result = _trainer(tiny_views, config, _NaNPrior()).run()
    assert result.bad_steps == len(range(5, config.steps, 4))
    assert np.isnan(result.losses["total"][5::4]).all()

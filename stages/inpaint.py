"""Inpaint stage: one NeRF optimised with reconstruction + SDS from a 2D inpainting prior + hole depth.

Methods (the baselines go through the same stage so they are trained and stored identically):
- joint: the paper's method (reconstruction warm-up, then reconstruction + SDS + depth terms).
- recon_only: rays through the (dilated) masks dropped, no prior: what a NeRF alone makes of
  the hole.
- per_view: every training view inpainted on its own with the prior's `inpaint`, then a NeRF
  fit to the filled images (the paper's baseline).
- classical: the same with OpenCV inpainting (no weights needed).

Writes into the `inpaint` group: `field_weights` (safetensors bytes) and `warmup_field_weights`
(the reconstruction-only field at the end of the warm-up, joint only), `attrs.field` and
`attrs.render` (to rebuild them: `inpaint3d_core.nerf.trained.load_trained`), `losses/<term>`
(one value per step, NaN where the term was not computed), `depth_targets/<i>` (filled hole
z-depth per training view with a hole, joint only), `sds_regions/<i>` (uint8: the part of that
view's hole no other view observes, which SDS painted; joint with sds_region "unobserved"),
`prior_weights` (InternalPrior safetensors,
reused by the per-view baseline and previews), and a summary.

Tasks (`inpaint3d_core.edit_tasks`): removal and completion differ only in the mask; replacement needs
the stable_diffusion prior and a prompt; expansion adds virtual cameras (`joint.expansion`) and
stores them under `expansion/`: K (V,3,3), c2w (V,4,4), size (V,2) width/height, source (V,)
appearance view, `masks/<k>` (unobserved pixels, uint8) and `warmup_rgb/<k>` (uint8 warm-up
renders); attrs kind (per view) and hole_fraction.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import torch

from inpaint3d_core.determinism import deterministic_on_cpu
from inpaint3d_core.edit_tasks import check_inpaint_task
from inpaint3d_core.errors import InputError
from inpaint3d_core.joint.checkpoint import CheckpointStore
from inpaint3d_core.joint.config import JointConfig, preset
from inpaint3d_core.joint.rays import TrainingViews
from inpaint3d_core.joint.trainer import JointTrainer
from inpaint3d_core.nerf.trained import field_to_bytes
from inpaint3d_core.priors.base import InpaintingPrior
from inpaint3d_core.priors.factory import build_prior
from inpaint3d_core.scene import (
    DEPTH_TARGETS,
    FIELD_KEY,
    INGEST,
    INPAINT,
    LOSSES,
    MASKS,
    POSES,
    PRIOR_KEY,
    SDS_REGIONS,
    WARMUP_FIELD_KEY,
    load_masks,
    load_posed_views,
    write_view_arrays,
    write_virtual_views,
)
from inpaint3d_core.stage import StageContext, StageResult, StageSpec, run_stage
from inpaint3d_core.store import SceneStore, write_bytes, write_views
from stages.configs.inpaint import Config

# code_version 2: the internal prior's training holes come from a bank made once (another random stream)
# code_version 3: the internal prior trains bf16 weights with fp32 masters (other numbers than autocast);
# the CPU hash grid samples its dense levels with grid_sample (same features to ~1e-6)
SPEC = StageSpec(
    INPAINT, schema_version=1, code_version=3, upstream=(INGEST, POSES, MASKS), packages=("diffusers", "nerfacc")
)


def run(store: SceneStore, config: Config, force: bool = False) -> StageResult:
    return run_stage(store, SPEC, config, lambda ctx: _compute_reproducibly(ctx, config), force=force)


def _compute_reproducibly(ctx: StageContext, config: Config) -> dict:
    """The stage on the CPU with deterministic kernels (prior training and the joint loop): same
    seed, same machine, same field (see inpaint3d_core.determinism)."""
    on_cuda = config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available())
    with deterministic_on_cpu("cuda" if on_cuda else "cpu"):
        return _compute(ctx, config)


def choose_device(config: Config) -> torch.device:
    """CUDA when there is one; the CPU with a warning otherwise, or an error for the full preset."""
    if config.device == "cuda" and not torch.cuda.is_available():
        raise InputError("inpaint: --device cuda was asked for but no CUDA GPU is available; use --device cpu")
    if config.device == "cpu" or (config.device == "auto" and not torch.cuda.is_available()):
        if config.preset != "quick" and config.device == "auto":
            raise InputError(
                f"inpaint: the '{config.preset}' preset needs a CUDA GPU and none is available; use --preset quick "
                "(or --device cpu to force it, expect hours)"
            )
        warnings.warn("inpaint: no CUDA GPU, training on the CPU (slow beyond toy sizes)", stacklevel=2)
        return torch.device("cpu")
    return torch.device("cuda")


def joint_config(config: Config) -> JointConfig:
    overrides = {
        "weights": config.weights,
        "seed": config.seed,
        "sds_region": config.sds_region,
        "random_background": config.random_background,
        "hole_terms": config.hole_terms,
    }
    if not config.depth_supervision:
        overrides["depth_fill"] = "none"
    if config.rays_per_batch is not None:
        overrides["rays_per_batch"] = config.rays_per_batch
    joint = preset(config.preset, config.steps_scale, **overrides)
    if config.sampler is not None:
        joint = joint.model_copy(update={"render": joint.render.model_copy(update={"sampler": config.sampler})})
    return joint


def load_training_views(store: SceneStore) -> tuple[TrainingViews, np.ndarray, float, float]:
    """Registered views with role "train", their dilated masks as holes, and near/far planes."""
    posed = load_posed_views(store)
    masks = load_masks(store, dilated=True)
    index = posed.indices("train")
    if len(index) == 0:
        raise InputError(f"{store.url}: no registered training views; rerun the poses stage or check view roles")
    images = [posed.image(int(i)) for i in index]
    holes = [np.asarray(masks[int(i)]) > 0 for i in index]
    for i, image, hole in zip(index, images, holes, strict=True):
        if hole.shape != image.shape[:2]:
            raise InputError(
                f"view {posed.views[int(i)].name}: mask {hole.shape} does not match image {image.shape[:2]}; "
                "rerun the masks stage"
            )
    views = TrainingViews(images, holes, posed.cameras.K[index], posed.cameras.c2w[index])
    bounds = posed.near_far[index]
    return views, index, float(bounds[:, 0].min()), float(bounds[:, 1].max())


def _build_prior(config: Config, views: TrainingViews, device: torch.device, ctx: StageContext) -> InpaintingPrior:
    """Load or train the prior; an InternalPrior trained before an interruption is reused from scratch."""
    scratch = CheckpointStore(ctx.scratch())
    masks = [hole.astype(np.uint8) for hole in views.holes]
    prior = build_prior(
        config.prior,
        device,
        sds=config.sds,
        training_data=(views.images, masks),
        internal_weights=scratch.get_blob("prior_internal"),
    )
    if hasattr(prior, "to_bytes"):
        scratch.put_blob("prior_internal", prior.to_bytes())
    return prior


def _compute(ctx: StageContext, config: Config) -> dict:
    start = time.perf_counter()
    device = choose_device(config)
    check_inpaint_task(config.task, config.method, config.prior.kind, config.prior.prompt)
    views, index, near, far = load_training_views(ctx.store)
    jc = joint_config(config)
    expansion = config.expansion if config.task == "expansion" else None
    if expansion is not None and expansion.object_masks == "ignore":
        views = TrainingViews(views.images, [np.zeros_like(h) for h in views.holes], views.K, views.c2w)
    if config.method == "joint" and expansion is None and not views.views_with_holes():
        raise InputError("inpaint: every training view's mask is empty; nothing to inpaint (check the masks stage)")
    prior = None
    if config.method in ("joint", "per_view"):
        t0 = time.perf_counter()
        prior = _build_prior(config, views, device, ctx)
        ctx.timings["prior_s"] = time.perf_counter() - t0
        if hasattr(prior, "to_bytes"):
            write_bytes(ctx.group, PRIOR_KEY, prior.to_bytes())
    if config.method in ("per_view", "classical"):
        from inpaint3d_core.baselines import fill_views_classical, fill_views_with_prior

        masks = [hole.astype(np.uint8) for hole in views.holes]
        if config.method == "per_view":
            filled = fill_views_with_prior(prior, views.images, masks, seed=config.seed)
        else:
            filled = fill_views_classical(views.images, masks)
        write_views(ctx.group, "filled_images", filled)
        # fit the filled images everywhere: no hole left, no prior in the loop
        views = TrainingViews(filled, [np.zeros_like(h) for h in views.holes], views.K, views.c2w)
        prior = None
    trainer = JointTrainer(
        views,
        jc,
        prior if config.method == "joint" else None,
        device,
        near=jc.near_scale * near,
        far=jc.far_scale * far,
        checkpoints=CheckpointStore(ctx.scratch()),
        expansion=expansion,
    )
    t0 = time.perf_counter()
    result = trainer.run()
    ctx.timings["train_s"] = time.perf_counter() - t0
    ctx.timings.update(result.timings)

    group = ctx.group
    write_bytes(group, FIELD_KEY, field_to_bytes(result.field))
    if result.warmup_field is not None:
        write_bytes(group, WARMUP_FIELD_KEY, result.warmup_field)
    group.attrs["field"] = result.field.config.model_dump(mode="json")
    group.attrs["render"] = trainer.render_settings.model_dump(mode="json")
    group.attrs["train_views"] = [int(i) for i in index]
    losses = group.require_group(LOSSES)
    for name, values in result.losses.items():
        losses.create_array(name, data=values.astype(np.float32), overwrite=True)
    if result.depth_targets:
        depths = {int(index[view]): depth.astype(np.float32) for view, depth in result.depth_targets.items()}
        write_view_arrays(group, DEPTH_TARGETS, depths)
    if result.sds_regions:
        regions = {int(index[view]): region.astype(np.uint8) for view, region in result.sds_regions.items()}
        write_view_arrays(group, SDS_REGIONS, regions)
    if result.virtual is not None:
        write_virtual_views(group, result.virtual, index)
    generative = [r.sum() / max(views.holes[v].sum(), 1) for v, r in result.sds_regions.items()]

    def final(term: str) -> float | None:
        values = result.losses[term]
        tail = values[np.isfinite(values)][-max(1, jc.steps // 20) :]
        return float(tail.mean()) if len(tail) else None

    return {
        "method": config.method,
        "task": config.task,
        **({"virtual_views": len(result.virtual)} if result.virtual is not None else {}),
        # mean over hole views of the fraction of the hole that no other view observes (SDS painted it)
        **({"generative_fraction": float(np.mean(generative))} if generative else {}),
        "prior": config.prior.kind if config.method in ("joint", "per_view") else None,
        "steps": result.steps,
        "resumed_from": result.resumed_from,
        "skipped_steps": result.bad_steps,
        "final_losses": {term: final(term) for term in result.losses},
        "views": len(index),
        "device": str(device),
        "seconds": time.perf_counter() - start,
    }

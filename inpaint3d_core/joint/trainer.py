"""The joint optimisation loop: reconstruction warm-up, then reconstruction + SDS + hole depth.

Schedule:
- steps [0, warmup): photometric loss on rays through known pixels only (masked rays dropped).
- at `warmup`: the warm-up field is kept (a reconstruction-only result). With `sds_region =
  "unobserved"` every training view is rendered with it and each hole is split into the part
  other views observe and the rest (`visibility`): SDS paints the rest only, and the observing
  views' colours become the prior's context in the observed part. Each hole's depth target is
  what other views observed there, the rest filled from the warm-up depth around it
  (`depth.fill_hole_depth`).
- steps [warmup, steps): the photometric loss continues; hole rays get the depth, free-space
  and opacity terms; every `sds_every` steps one SDS call scores crops of
  `sds_views_per_step` views (rendered hole over captured context) with the prior.

With `expansion` (scene expansion), the joint phase also builds virtual cameras looking past
the capture from the warm-up field (`expansion.build_virtual_views`); their unobserved pixels
join the SDS crops and the hole terms, while the real views' reconstruction is unchanged.

Without a prior (the baselines: reconstruction only, or fitting filled images) the loop is the
warm-up phase for all steps. Failure behaviour: a step whose loss or gradient is NaN/inf is
skipped and counted; `max_bad_steps` in a row stop the run with an error that names the
settings to change; running out of GPU memory does the same.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from tqdm import tqdm

from inpaint3d_core.cameras import image_pixel_grid, pixel_rays, ray_z_scale
from inpaint3d_core.determinism import deterministic_on_own_device
from inpaint3d_core.errors import InputError
from inpaint3d_core.joint.checkpoint import Checkpoint, CheckpointStore, optimizer_tensors, restore_optimizer
from inpaint3d_core.joint.config import ExpansionConfig, JointConfig
from inpaint3d_core.joint.crops import SDSCrop, compose_crop, make_crop
from inpaint3d_core.joint.depth import depth_loss, fill_hole_depth, freespace_loss, opacity_loss
from inpaint3d_core.joint.expansion import VirtualHoleRays, VirtualViews, build_virtual_views
from inpaint3d_core.joint.rays import RayBank, TrainingViews
from inpaint3d_core.joint.visibility import generative_region, observe_hole
from inpaint3d_core.nerf.field import RadianceField
from inpaint3d_core.nerf.renderer import RenderOutput, render_rays
from inpaint3d_core.nerf.trained import build_sampler, field_to_bytes, render_chunk_rays
from inpaint3d_core.priors.base import InpaintingPrior

TERMS = ("rgb", "sds", "depth", "freespace", "opacity", "virtual_opacity", "total")
# Context factor of the SDS crop when the prior states none (same default as the per-view baseline).
DEFAULT_CROP_CONTEXT = 2.0
# A generative region smaller than this (px) is left to the reconstruction: no SDS crop for it.
MIN_SDS_REGION_PX = 16


class TrainingDivergedError(InputError):
    """Losses stayed NaN/inf: the message names the settings to lower."""


@dataclass
class TrainResult:
    field: RadianceField
    losses: dict[str, np.ndarray]  # per step, NaN where a term was not computed
    steps: int
    bad_steps: int
    resumed_from: int
    warmup_field: bytes | None = None
    depth_targets: dict[int, np.ndarray] = field(default_factory=dict)  # view -> filled z-depth (H, W)
    timings: dict[str, float] = field(default_factory=dict)
    virtual: VirtualViews | None = None  # scene expansion: the virtual views SDS filled
    sds_regions: dict[int, np.ndarray] = field(default_factory=dict)  # view -> generative part of its hole


class JointTrainer:
    """Optimises one field on `views`; `prior=None` gives the reconstruction-only loop."""

    def __init__(
        self,
        views: TrainingViews,
        config: JointConfig,
        prior: InpaintingPrior | None,
        device: torch.device,
        near: float,
        far: float,
        checkpoints: CheckpointStore | None = None,
        after_step: Callable[[int], None] | None = None,
        profile: bool = False,
        expansion: ExpansionConfig | None = None,
    ):
        self.views = views
        self.config = config
        self.prior = prior
        self.device = device
        self.checkpoints = checkpoints
        self.after_step = after_step
        self.profile = profile
        self.hole_views = views.views_with_holes()
        self.expansion = expansion
        self.joint = prior is not None and (bool(self.hole_views) or expansion is not None)
        self.virtual: VirtualViews | None = None
        self.virtual_rays: VirtualHoleRays | None = None
        torch.manual_seed(config.seed)  # field init and sampler jitter are reproducible per seed
        field_config = config.field.model_copy(update={"num_views": len(views)})
        self.field = RadianceField(field_config).to(device)
        self.field.use_compile(config.render.compile, device)
        self.render_settings = config.render.model_copy(update={"near": near, "far": far})
        self.sampler = build_sampler(self.render_settings, field_config.inner_radius, device)
        self.background = torch.tensor(self.render_settings.background, device=device)
        self.bank = RayBank(views, device)
        if self.bank.known.numel() == 0:
            raise InputError("no known pixels to reconstruct from: every pixel of every training view is masked")
        self.optimizer = torch.optim.Adam(self.field.parameters(), lr=config.lr, eps=1e-15)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.hole_target: torch.Tensor | None = None  # distance-free z-depth per hole pixel
        self.crops: dict[int, SDSCrop] = {}
        self.losses = {name: np.full(config.steps, np.nan, dtype=np.float32) for name in TERMS}
        self.bad_steps = 0
        self.warmup_field: bytes | None = None
        self.depth_targets: dict[int, np.ndarray] = {}
        # sds_region "unobserved": per hole view, the generative part of the hole and the image whose
        # observed hole pixels hold the observing views' colours (the prior's context)
        self.sds_regions: dict[int, np.ndarray] = {}
        self.sds_images: dict[int, np.ndarray] = {}
        self._sds_pool: list[int] | None = None  # SDS views, fixed once the joint phase has begun
        self.timings = {"render_s": 0.0, "sds_s": 0.0, "backward_s": 0.0}

    # ------------------------------------------------------------------ rendering
    def _render(self, origins, directions, view_ids, training=True, background=None) -> RenderOutput:
        """`background`: (R, 3) colour behind each ray, or None for the render settings' colour."""
        near = torch.full_like(origins[:, 0], self.render_settings.near)
        far = torch.full_like(origins[:, 0], self.render_settings.far)
        background = self.background if background is None else background
        return render_rays(self.field, self.sampler, origins, directions, near, far, view_ids, background, training)

    def _training_background(self, n_rays: int) -> torch.Tensor | None:
        """A random colour per ray for the photometric loss (`random_background`), else None.

        The captures are opaque (ingest keeps RGB), so the target pixel needs no compositing: a
        ray that renders empty takes a random colour and is penalised against any target, dark
        ones included, instead of matching black pixels for free against a black background.
        """
        if not self.config.random_background:
            return None
        return torch.rand((n_rays, 3), generator=self.generator).to(self.device)

    def _sync(self) -> float:
        if self.profile and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    # ------------------------------------------------------------------ warm-up -> joint
    @torch.no_grad()
    def _fill_depth_targets(self, seen_depths: dict[int, np.ndarray]) -> None:
        """Render depth around every hole with the warm-up field and fill the hole from it.

        The ring of boundary depth is taken from opaque pixels (acc > 0.5) a few pixels around
        the hole; if a short or struggling warm-up left none there, the window widens (16 px,
        then the whole view), and as a last resort any positive depth is trusted. Only a view
        whose warm-up render is empty everywhere is an error. `seen_depths` (view -> z-depth
        other views observed in its hole, 0 where none) replaces the fill where it is known.
        """
        targets = torch.zeros(self.bank.hole.shape[0], device=self.device)
        for view in tqdm(self.hole_views, desc="hole depth fill", leave=False):
            hole = self.views.holes[view]
            # hole pixels other views observed take the depth they saw there
            filled = self._filled_hole_depth(view, hole, seen_depths.get(view))
            self.depth_targets[view] = filled
            flat = torch.from_numpy(np.flatnonzero(hole)).to(self.device) + self.bank.offsets[view]
            pos = torch.searchsorted(self.bank.hole, flat)
            targets[pos] = torch.from_numpy(filled[hole]).to(self.device)
        self.hole_target = targets

    def _filled_hole_depth(self, view: int, hole: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
        """Warm-up z-depth in a window around `hole`; hole pixels take `known` z-depth where it is
        positive (what other views observed there) and the rest is filled from around them."""
        h, w = hole.shape
        ys, xs = np.nonzero(hole)
        for margin in (4, 16, max(h, w)):
            y0, y1 = max(ys.min() - margin, 0), min(ys.max() + margin + 1, h)
            x0, x1 = max(xs.min() - margin, 0), min(xs.max() + margin + 1, w)
            box_depth, box_acc = self._render_depth_window(view, x0, x1, y0, y1)
            box_hole = hole[y0:y1, x0:x1].copy()
            if known is not None:
                box_known = box_hole & (known[y0:y1, x0:x1] > 0)
                box_depth = np.where(box_known, known[y0:y1, x0:x1], box_depth)
                box_acc = np.where(box_known, 1.0, box_acc)
                box_hole &= ~box_known
            for valid in (box_acc > 0.5, box_depth > 0):
                if (valid & ~box_hole).any():
                    filled = np.zeros(hole.shape, dtype=np.float32)
                    filled[y0:y1, x0:x1] = fill_hole_depth(box_depth, box_hole, valid=valid)
                    return filled
                if margin < max(h, w):
                    break  # widen the window before trusting translucent depth
        raise RuntimeError(
            f"hole depth fill: the warm-up field renders nothing in view {view}; "
            "raise the warm-up steps (preset / steps_scale) or check the poses"
        )

    def _render_pixels(self, K: torch.Tensor, c2w: torch.Tensor, xy: torch.Tensor, appearance: int):
        """rgb (P, 3), z-depth (P,) and opacity (P,) at pixel positions `xy` of one camera, in
        chunks so a whole image fits in memory."""
        rgb, depth, acc = [], [], []
        chunk = render_chunk_rays(self.render_settings, self.device, xy.shape[0])
        for start in range(0, xy.shape[0], chunk):
            part = xy[start : start + chunk]
            origins, directions = pixel_rays(K, c2w, part)
            ids = torch.full((part.shape[0],), appearance, device=self.device, dtype=torch.long)
            out = self._render(origins, directions, ids, training=False)
            rgb.append(out.rgb)
            depth.append(out.distance * ray_z_scale(K, part))
            acc.append(out.acc)
        return torch.cat(rgb).float(), torch.cat(depth).float(), torch.cat(acc).float()

    def _render_depth_window(self, view: int, x0: int, x1: int, y0: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
        """z-depth and opacity of the pixel window [y0:y1, x0:x1] of a training view."""
        gy, gx = np.mgrid[y0:y1, x0:x1]
        xy = torch.tensor(np.stack([gx.ravel() + 0.5, gy.ravel() + 0.5], -1), dtype=torch.float32)
        _, depth, acc = self._render_pixels(self.bank.K[view], self.bank.c2w[view], xy.to(self.device), view)
        shape = (y1 - y0, x1 - x0)
        return depth.view(shape).cpu().numpy(), acc.view(shape).cpu().numpy()

    @torch.no_grad()
    def _render_camera(self, K: np.ndarray, c2w: np.ndarray, width: int, height: int, appearance: int):
        """rgb, z-depth and opacity of a whole camera with the current field (virtual views)."""
        K_t = torch.as_tensor(K, dtype=torch.float32, device=self.device)
        c2w_t = torch.as_tensor(c2w, dtype=torch.float32, device=self.device)
        rgb, depth, acc = self._render_pixels(
            K_t, c2w_t, image_pixel_grid(width, height, device=self.device), appearance
        )
        shape = (height, width)
        return rgb.view(*shape, 3).cpu().numpy(), depth.view(shape).cpu().numpy(), acc.view(shape).cpu().numpy()

    def _set_virtual(self, virtual: VirtualViews) -> None:
        self.virtual = virtual
        self.virtual_rays = VirtualHoleRays(virtual, self.device) if len(virtual) else None

    def _split_observed(self) -> dict[int, np.ndarray]:
        """Split every hole into what other views observe and the generative rest (`visibility`).

        Splatting runs on warm-up renders scaled to `visibility_max_side` so its cost stays
        bounded on large captures; the results are scaled back with nearest-neighbour lookup.
        The observed hole pixels show the observing views' colours to the prior (context).
        Returns, per hole view, the z-depth other views observed in its hole (0 where none).
        """
        n = len(self.views)
        scaled_K, renders, images, holes = np.array(self.views.K, dtype=np.float64), [], [], []
        for view in tqdm(range(n), desc="visibility renders", leave=False):
            h, w = self.views.holes[view].shape
            scale = min(1.0, self.config.visibility_max_side / max(h, w))
            scaled_K[view, :2] *= scale
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            renders.append(self._render_camera(scaled_K[view], self.views.c2w[view], *size, view))
            images.append(cv2.resize(self.views.images[view], size, interpolation=cv2.INTER_AREA))
            holes.append(cv2.resize(self.views.holes[view].astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0)
        depths, accs = [r[1] for r in renders], [r[2] for r in renders]
        seen_depths = {}
        for view in self.hole_views:
            seen = observe_hole(view, images, depths, accs, holes, scaled_K, self.views.c2w)
            hole = self.views.holes[view]
            observed = _upsample(seen.observed.astype(np.uint8), hole.shape).astype(bool) & hole
            region = generative_region(hole, observed)
            image = self.views.images[view].copy()
            kept = hole & ~region
            image[kept] = _upsample(seen.rgb, hole.shape)[kept]
            self.sds_regions[view], self.sds_images[view] = region, image
            seen_depths[view] = np.where(hole, _upsample(seen.depth, hole.shape), 0.0).astype(np.float32)
        return seen_depths

    def _begin_joint(self) -> None:
        self.warmup_field = field_to_bytes(self.field)
        seen_depths = self._split_observed() if self.config.sds_region == "unobserved" and self.hole_views else {}
        if self.config.depth_fill != "none":
            self._fill_depth_targets(seen_depths)
        self._restrict_hole_terms()
        if self.expansion is not None:
            self._set_virtual(build_virtual_views(self._render_camera, self.views, self.expansion))
        if self.checkpoints is not None:
            self.checkpoints.put_blob("warmup_field", self.warmup_field)
            self.checkpoints.put_blob("joint_state", self._joint_state_bytes())

    def _restrict_hole_terms(self) -> None:
        """With hole_terms 'unobserved', hole rays come from the generative regions only."""
        if self.config.hole_terms == "unobserved" and self.sds_regions:
            self.bank.restrict_hole(self.sds_regions)

    def _joint_state_bytes(self) -> bytes:
        tensors = {f"depth.{v}": torch.from_numpy(d) for v, d in self.depth_targets.items()}
        tensors.update({f"sds_region.{v}": torch.from_numpy(r.astype(np.uint8)) for v, r in self.sds_regions.items()})
        tensors.update({f"sds_image.{v}": torch.from_numpy(i) for v, i in self.sds_images.items()})
        if self.hole_target is not None:
            tensors["hole_target"] = self.hole_target.cpu()
        if self.virtual is not None:
            tensors.update(self.virtual.to_tensors())
        return save_safetensors(tensors)

    def _restore_joint_state(self, payload: bytes) -> None:
        tensors = load_safetensors(payload)

        def by_view(prefix: str) -> dict[int, np.ndarray]:
            return {int(k.split(".")[1]): v.numpy() for k, v in tensors.items() if k.startswith(prefix)}

        self.depth_targets = by_view("depth.")
        self.sds_regions = {v: r.astype(bool) for v, r in by_view("sds_region.").items()}
        self.sds_images = by_view("sds_image.")
        if "hole_target" in tensors:
            self.hole_target = tensors["hole_target"].to(self.device)
        virtual = VirtualViews.from_tensors(tensors)
        if virtual is not None:
            self._set_virtual(virtual)
        self._restrict_hole_terms()

    # ------------------------------------------------------------------ loss terms
    def _hole_terms(self, terms: dict[str, torch.Tensor]) -> None:
        w = self.config.weights
        if self.config.hole_rays_per_batch == 0 or (w.depth == 0 and w.freespace == 0 and w.opacity == 0):
            return
        parts: list[tuple[RenderOutput, torch.Tensor]] = []  # (render, target distance) per hole source
        if self.hole_target is not None and self.bank.hole_pool.numel() > 0:
            batch = self.bank.sample("hole", self.config.hole_rays_per_batch, self.generator)
            out = self._render(batch.origins, batch.directions, batch.view_ids)
            z = self.hole_target[torch.searchsorted(self.bank.hole, batch.pixels)]
            parts.append((out, z / batch.z_scale))  # z-depth -> distance along the unit ray
        if self.virtual_rays is not None:
            batch, appearance, target = self.virtual_rays.sample(self.config.hole_rays_per_batch, self.generator)
            virtual_out = self._render(batch.origins, batch.directions, appearance)
            parts.append((virtual_out, target))
            terms["virtual_opacity"] = opacity_loss(virtual_out)
        if not parts:
            return
        with_depth = self.config.depth_fill != "none"
        if with_depth:
            terms["depth"] = sum(depth_loss(out.distance, t) for out, t in parts) / len(parts)
            terms["freespace"] = sum(freespace_loss(out, t, self.config.freespace_margin) for out, t in parts) / len(
                parts
            )
        terms["opacity"] = sum(opacity_loss(out) for out, _ in parts) / len(parts)

    def _sds_view(self, view: int) -> tuple[np.ndarray, np.ndarray, torch.Tensor, torch.Tensor, int]:
        """Image, hole, K, c2w and appearance id of SDS view `view`: a training view, or (from
        len(views) on) a virtual view of scene expansion."""
        n = len(self.views)
        if view < n:
            image = self.sds_images.get(view, self.views.images[view])
            hole = self.sds_regions.get(view, self.views.holes[view])
            return image, hole, self.bank.K[view], self.bank.c2w[view], view
        k = view - n
        cams = self.virtual.cameras
        K = torch.as_tensor(cams.K[k], dtype=torch.float32, device=self.device)
        c2w = torch.as_tensor(cams.c2w[k], dtype=torch.float32, device=self.device)
        return self.virtual.images[k], self.virtual.holes[k], K, c2w, int(cams.source[k])

    def _crop(self, view: int) -> SDSCrop:
        if view not in self.crops:
            resolution = int(self.prior.resolution)
            render_res = min(self.config.sds_render_resolution or resolution, resolution)
            context = float(getattr(self.prior, "crop_context", DEFAULT_CROP_CONTEXT))
            image, hole, *_ = self._sds_view(view)
            self.crops[view] = make_crop(view, image, hole, resolution, render_res, context, self.device)
        return self.crops[view]

    def _sds_views(self) -> list[int]:
        """Views SDS draws from: training views whose generative region is large enough, then the
        virtual views. Computed at the first SDS step (the joint phase has begun or been restored)."""
        if self._sds_pool is None:
            n = len(self.views)
            virtual = range(n, n + len(self.virtual)) if self.virtual is not None else []
            regions = [self._sds_view(v)[1] for v in self.hole_views]
            real = [v for v, r in zip(self.hole_views, regions, strict=True) if r.sum() >= MIN_SDS_REGION_PX]
            self._sds_pool = [*real, *virtual]
        return self._sds_pool

    def _sds_term(self, progress: float) -> torch.Tensor | None:
        pool = self._sds_views()
        if not pool:
            return None
        pick = torch.randint(0, len(pool), (self.config.sds_views_per_step,), generator=self.generator)
        crops = [self._crop(pool[int(i)]) for i in pick]
        xy = torch.cat([c.ray_xy for c in crops])
        cameras = [self._sds_view(c.view) for c in crops]
        counts = [c.ray_xy.shape[0] for c in crops]
        K = torch.cat([cam[2].expand(m, 3, 3) for cam, m in zip(cameras, counts, strict=True)])
        c2w = torch.cat([cam[3].expand(m, 4, 4) for cam, m in zip(cameras, counts, strict=True)])
        appearance = torch.cat(
            [torch.full((m,), cam[4], device=self.device) for cam, m in zip(cameras, counts, strict=True)]
        )
        origins, directions = pixel_rays(K, c2w, xy)
        out = self._render(origins, directions, appearance)
        parts = torch.split(out.rgb, [c.ray_xy.shape[0] for c in crops])
        rendered = torch.stack([compose_crop(c, rgb) for c, rgb in zip(crops, parts, strict=True)])
        cond = torch.stack([c.cond for c in crops])
        mask = torch.stack([c.mask for c in crops])
        prior_device = torch.device(getattr(self.prior, "device", self.device))
        result = self.prior.sds_loss(rendered.to(prior_device), cond.to(prior_device), mask.to(prior_device), progress)
        # per hole pixel, so the weight does not depend on the prior's resolution or hole size
        return result.loss.to(self.device) / mask.sum().clamp_min(1.0)

    # ------------------------------------------------------------------ one step
    def _lr(self, step: int) -> float:
        return self.config.lr * self.config.lr_final_factor ** (step / max(self.config.steps - 1, 1))

    def _step(self, step: int) -> dict[str, float] | None:
        cfg = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr(step)
        self.sampler.update(step, self.field.density)
        t0 = self._sync()
        terms: dict[str, torch.Tensor] = {}
        batch = self.bank.sample("known", cfg.rays_per_batch, self.generator)
        background = self._training_background(batch.rgb.shape[0])
        out = self._render(batch.origins, batch.directions, batch.view_ids, background=background)
        terms["rgb"] = F.mse_loss(out.rgb, batch.rgb)
        in_joint = self.joint and step >= cfg.warmup_steps
        if in_joint:
            self._hole_terms(terms)
        t1 = self._sync()
        self.timings["render_s"] += t1 - t0
        if in_joint and cfg.weights.sds > 0 and (step - cfg.warmup_steps) % cfg.sds_every == 0:
            progress = (step - cfg.warmup_steps) / max(cfg.steps - cfg.warmup_steps - 1, 1)
            sds = self._sds_term(progress)
            if sds is not None:
                terms["sds"] = sds
        t2 = self._sync()
        self.timings["sds_s"] += t2 - t1
        weights = {
            **cfg.weights.model_dump(),
            "virtual_opacity": self.expansion.opacity_weight if self.expansion else 0.0,
        }
        total = sum(weights[name] * value for name, value in terms.items())
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.field.parameters(), max_norm=1e6)
        # one device-to-host copy per step (every float() would wait for the GPU on its own)
        names = [*terms, "total"]
        numbers = torch.stack([*(v.detach().float() for v in terms.values()), total.detach().float(), grad_norm])
        *term_values, total_value, norm_value = numbers.tolist()
        if not (math.isfinite(total_value) and math.isfinite(norm_value)):
            self.optimizer.zero_grad(set_to_none=True)
            return None
        values = dict(zip(names, [*term_values, total_value], strict=True))
        self.optimizer.step()
        self.timings["backward_s"] += self._sync() - t2
        return values

    # ------------------------------------------------------------------ checkpoints
    def _save(self, step: int) -> None:
        tensors = {f"field.{k}": v.detach().cpu() for k, v in self.field.state_dict().items()}
        opt_tensors, groups = optimizer_tensors(self.optimizer)
        tensors.update(opt_tensors)
        tensors.update({f"sampler.{k}": v.cpu() for k, v in self.sampler.state_tensors().items()})
        tensors["rng.torch"] = torch.get_rng_state()
        tensors["rng.rays"] = self.generator.get_state()
        if self.device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        meta = {"param_groups": groups, "bad_steps": self.bad_steps}
        losses = {name: values[:step] for name, values in self.losses.items()}
        self.checkpoints.save(Checkpoint(step=step, tensors=tensors, meta=meta, losses=losses))

    def _resume(self) -> int:
        ckpt = self.checkpoints.latest() if self.checkpoints is not None else None
        if ckpt is None:
            return 0
        field_state = {k[len("field.") :]: v for k, v in ckpt.tensors.items() if k.startswith("field.")}
        self.field.load_state_dict(field_state)
        restore_optimizer(self.optimizer, ckpt.tensors, ckpt.meta["param_groups"])
        sampler_state = {
            k[len("sampler.") :]: v.to(self.device) for k, v in ckpt.tensors.items() if k.startswith("sampler.")
        }
        if sampler_state:
            self.sampler.load_state_tensors(sampler_state)
        torch.set_rng_state(ckpt.tensors["rng.torch"])
        self.generator.set_state(ckpt.tensors["rng.rays"])
        if "rng.cuda" in ckpt.tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(ckpt.tensors["rng.cuda"], self.device)
        self.bad_steps = int(ckpt.meta["bad_steps"])
        for name, values in ckpt.losses.items():
            self.losses[name][: len(values)] = values
        if self.joint and ckpt.step > self.config.warmup_steps:
            self.warmup_field = self.checkpoints.get_blob("warmup_field")
            state = self.checkpoints.get_blob("joint_state")
            if state is not None:
                self._restore_joint_state(state)
        return ckpt.step

    # ------------------------------------------------------------------ loop
    @deterministic_on_own_device  # same seed, same machine, same field (threads' sum order)
    def run(self) -> TrainResult:
        cfg = self.config
        start = self._resume()
        consecutive_bad = 0
        bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc="inpaint", dynamic_ncols=True)
        for step in bar:
            if self.joint and step == cfg.warmup_steps:
                self._begin_joint()
            try:
                values = self._step(step)
            except torch.OutOfMemoryError as exc:
                raise InputError(
                    f"out of GPU memory at step {step}: lower rays_per_batch ({cfg.rays_per_batch}), "
                    f"hole_rays_per_batch ({cfg.hole_rays_per_batch}), sds_views_per_step "
                    f"({cfg.sds_views_per_step}) or sds_render_resolution ({cfg.sds_render_resolution})"
                ) from exc
            if values is None:
                self.bad_steps += 1
                consecutive_bad += 1
                if consecutive_bad >= cfg.max_bad_steps:
                    raise TrainingDivergedError(
                        f"stopped at step {step}: {consecutive_bad} steps in a row had NaN/inf losses or gradients "
                        f"({self.bad_steps} in all); lower lr ({cfg.lr}) or the SDS weight ({cfg.weights.sds})"
                    )
            else:
                consecutive_bad = 0
                for name, value in values.items():
                    self.losses[name][step] = value
                if step % 10 == 0:
                    bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)
            if self.checkpoints is not None and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
                self._save(step + 1)
            if self.after_step is not None:
                self.after_step(step)
        bar.close()
        if self.joint and self.warmup_field is None:  # warm-up longer than the run: the final field is it
            self.warmup_field = field_to_bytes(self.field)
        return TrainResult(
            field=self.field,
            losses=self.losses,
            steps=cfg.steps,
            bad_steps=self.bad_steps,
            resumed_from=start,
            warmup_field=self.warmup_field,
            depth_targets=self.depth_targets,
            timings=dict(self.timings),
            virtual=self.virtual,
            sds_regions=self.sds_regions,
        )


def _upsample(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """`small` resized to `shape` (H, W) by nearest neighbour (masks, depths and colours alike)."""
    return cv2.resize(small, shape[::-1], interpolation=cv2.INTER_NEAREST)

"""A trained field with its sampler and render settings, saved to and loaded from the store.

This is the API downstream stages (render, evaluate) use: `load_trained(store)` rebuilds the
field the inpaint stage stored (weights as safetensors bytes, configs in the group's
attributes) and `render_view` renders any pinhole camera of the normalised scene.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from inpaint3d_core.cameras import image_pixel_grid, pixel_rays, ray_z_scale
from inpaint3d_core.errors import InputError
from inpaint3d_core.nerf.config import FieldConfig, RenderSettings
from inpaint3d_core.nerf.field import RadianceField
from inpaint3d_core.nerf.renderer import RenderOutput, render_rays
from inpaint3d_core.nerf.sampler_cpu import StratifiedResampler
from inpaint3d_core.nerf.samples import Sampler
from inpaint3d_core.scene import read_field
from inpaint3d_core.store import SceneStore

# Bytes of temporaries per sample while rendering without gradients, an upper estimate for the
# eager hash grid at full-preset sizes (16 levels x 8 corners of int64 indices, float weights and
# 2 features: ~1.5 KiB, plus the MLPs' activations), doubled for margin. In the 1008x567 run the
# render stage peaked at 15.6 GiB with chunks sized from it.
_BYTES_PER_SAMPLE = 4096
# Share of the free device memory one render chunk may take.
_CHUNK_MEMORY_SHARE = 0.25


def samples_per_ray(settings: RenderSettings, device: torch.device) -> int:
    """Samples the field evaluates per ray (the occupancy grid's is an upper estimate: 1024)."""
    if resolve_sampler(settings, device) == "stratified":
        return settings.num_coarse + settings.num_fine
    return 1024


def render_chunk_rays(settings: RenderSettings, device: torch.device, pixels: int) -> int:
    """Rays per chunk for whole-image renders: as many as a share of the free memory holds on
    CUDA (fewer chunks = fewer launches and syncs), 16384 on the CPU (a 96x72 frame in one chunk
    rendered 25% faster than in 8192-ray chunks), never more than the image has.
    `settings.chunk_rays` overrides."""
    if settings.chunk_rays is not None:
        return min(settings.chunk_rays, pixels)
    if device.type != "cuda":
        return min(16384, pixels)
    free, _total = torch.cuda.mem_get_info(device)
    fit = int(free * _CHUNK_MEMORY_SHARE) // (samples_per_ray(settings, device) * _BYTES_PER_SAMPLE)
    return max(1024, min(fit, 1 << 18, pixels))


def resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_sampler(settings: RenderSettings, device: torch.device) -> Literal["stratified", "occupancy"]:
    """'auto' = the occupancy grid where it can run (CUDA), the pure-torch sampler elsewhere."""
    if settings.sampler == "auto":
        return "occupancy" if device.type == "cuda" else "stratified"
    return settings.sampler


def build_sampler(settings: RenderSettings, inner_radius: float, device: torch.device) -> Sampler:
    """The sampler `resolve_sampler` picks, ready for `device`."""
    kind = resolve_sampler(settings, device)
    if kind == "occupancy":
        if device.type != "cuda":
            raise InputError("sampler 'occupancy' (nerfacc) needs a CUDA device: use sampler 'stratified' on CPU")
        from inpaint3d_core.nerf.sampler_cuda import OccupancyGridSampler

        return OccupancyGridSampler(
            inner_radius=inner_radius,
            resolution=settings.grid_resolution,
            levels=settings.grid_levels,
            render_step_size=settings.render_step_size,
            cone_angle=settings.cone_angle,
            device=device,
        )
    return StratifiedResampler(settings.num_coarse, settings.num_fine, settings.spacing)


def field_to_bytes(field: RadianceField) -> bytes:
    return save_safetensors({k: v.detach().cpu().contiguous() for k, v in field.state_dict().items()})


def field_from_bytes(config: FieldConfig, payload: bytes, device: torch.device) -> RadianceField:
    field = RadianceField(config)
    field.load_state_dict(load_safetensors(payload))
    return field.to(device)


class TrainedRadianceField:
    """A field plus the sampler and settings to render it."""

    def __init__(self, field: RadianceField, settings: RenderSettings, device: torch.device, sampler=None):
        self.field = field.to(device).eval()
        if isinstance(field, RadianceField):  # other density/colour modules (analytic test fields) run as they are
            field.use_compile(settings.compile, device)
        self.settings = settings
        self.device = device
        self.sampler = sampler or build_sampler(settings, field.config.inner_radius, device)
        if hasattr(self.sampler, "rebuild") and sampler is None:
            self.sampler.rebuild(self.field.density)
        self.background = torch.tensor(settings.background, dtype=torch.float32, device=device)

    def render_rays(
        self,
        origins: torch.Tensor,
        directions: torch.Tensor,
        view_ids: torch.Tensor | None = None,
        training: bool = False,
    ) -> RenderOutput:
        near = torch.full_like(origins[:, 0], self.settings.near)
        far = torch.full_like(origins[:, 0], self.settings.far)
        return render_rays(
            self.field, self.sampler, origins, directions, near, far, view_ids, self.background, training
        )

    @torch.no_grad()
    def render_view(
        self,
        K: np.ndarray,
        c2w: np.ndarray,
        width: int,
        height: int,
        chunk: int | None = None,
        view_id: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Render one pinhole camera (OpenCV axes, normalised scene).

        Returns rgb (H, W, 3) float32 in [0, 1], depth (H, W) float32 z-depth in normalised scene
        units (0 where nothing was hit), acc (H, W) float32 opacity. `view_id` selects a
        training view's appearance code; None uses the mean code.
        """
        K_t = torch.as_tensor(np.asarray(K), dtype=torch.float32, device=self.device)
        c2w_t = torch.as_tensor(np.asarray(c2w), dtype=torch.float32, device=self.device)
        xy = image_pixel_grid(int(width), int(height), device=self.device)
        chunk = chunk or render_chunk_rays(self.settings, self.device, xy.shape[0])
        rgb, depth, acc = [], [], []
        for start in range(0, xy.shape[0], chunk):
            part = xy[start : start + chunk]
            origins, directions = pixel_rays(K_t, c2w_t, part)
            ids = None if view_id is None else torch.full_like(part[:, 0], view_id, dtype=torch.long)
            out = self.render_rays(origins, directions, ids)
            rgb.append(out.rgb.clamp(0.0, 1.0))
            depth.append(out.distance * ray_z_scale(K_t, part))
            acc.append(out.acc)
        shape = (int(height), int(width))
        return {
            "rgb": torch.cat(rgb).view(*shape, 3).float().cpu().numpy(),
            "depth": torch.cat(depth).view(shape).float().cpu().numpy(),
            "acc": torch.cat(acc).view(shape).float().cpu().numpy(),
        }


def load_trained(
    store: SceneStore, device: str | torch.device | None = None, which: Literal["final", "warmup"] = "final"
) -> TrainedRadianceField:
    """The field the inpaint stage stored. `which="warmup"` gives the reconstruction-only field
    from the end of the warm-up (before SDS), for before/after comparisons."""
    field_attrs, render_attrs, weights = read_field(store, which)
    dev = resolve_device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        warnings.warn("CUDA requested but not available: rendering on CPU", stacklevel=2)
        dev = torch.device("cpu")
    config = FieldConfig(**field_attrs)
    return TrainedRadianceField(field_from_bytes(config, weights, dev), RenderSettings(**render_attrs), dev)

"""SDS crops: what the prior sees of one view, and the rays that render it.

The crop is the window `boxes.hole_crop` picks for the per-view baseline (the dilated hole's
bounding box grown by the prior's context factor, square where the image allows), so the joint
method and the per-view baseline show the prior exactly the same context.

Only the rays inside the hole are rendered; the rest of the crop is the captured image. Why:
the SDS gradient is confined to the hole anyway, so rendering the known part would cost rays
and add nothing but a blurrier context for the prior. The hole is rendered at
`render_resolution` (at most the prior's) and upsampled, which bounds the ray count per SDS step
on large priors (512 px).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from inpaint3d_core.boxes import Box, hole_crop, resize_crop


@dataclass
class SDSCrop:
    """Static facts about one view's SDS crop (computed once per view)."""

    view: int
    box: Box
    cond: torch.Tensor  # (3, R, R) captured crop in [0, 1], hole blanked to 0
    mask: torch.Tensor  # (1, R, R) hole at the prior's resolution, {0, 1}
    render_hole: torch.Tensor  # (r, r) bool: render-grid cells inside the hole
    ray_xy: torch.Tensor  # (M, 2) pixel coordinates in the view of the rendered cells
    render_fill: torch.Tensor  # (3, r, r) captured crop at render resolution (outside the hole)


def make_crop(
    view: int,
    image: np.ndarray,
    hole: np.ndarray,
    resolution: int,
    render_resolution: int,
    context: float,
    device: torch.device,
) -> SDSCrop:
    box = hole_crop(hole, context=context)

    def resized(side: int) -> tuple[torch.Tensor, torch.Tensor]:
        rgb, mask = resize_crop(image, hole, box, side)
        rgb_t = torch.from_numpy(rgb).permute(2, 0, 1).float().div(255.0).to(device)
        return rgb_t, torch.from_numpy(mask).to(device)

    cond, mask = resized(resolution)
    fill, render_hole = resized(render_resolution)
    rows, cols = torch.nonzero(render_hole, as_tuple=True)
    scale_x = (box.x1 - box.x0) / render_resolution
    scale_y = (box.y1 - box.y0) / render_resolution
    ray_xy = torch.stack([box.x0 + (cols.float() + 0.5) * scale_x, box.y0 + (rows.float() + 0.5) * scale_y], dim=-1)
    mask_f = mask.float()[None]
    return SDSCrop(
        view=view,
        box=box,
        cond=cond * (1.0 - mask_f),
        mask=mask_f,
        render_hole=render_hole,
        ray_xy=ray_xy,
        render_fill=fill,
    )


def compose_crop(crop: SDSCrop, hole_rgb: torch.Tensor) -> torch.Tensor:
    """The image the prior scores: rendered hole colours (M, 3) over the captured context.

    Returns (3, R, R) at the prior's resolution; gradients reach `hole_rgb` only.
    """
    canvas = crop.render_fill.clone()
    rows, cols = torch.nonzero(crop.render_hole, as_tuple=True)
    canvas[:, rows, cols] = hole_rgb.T.to(canvas.dtype)
    side = crop.mask.shape[-1]
    if canvas.shape[-1] != side:
        canvas = F.interpolate(canvas[None], size=(side, side), mode="bilinear", align_corners=False)[0]
    known = crop.cond  # hole already blanked
    return known + canvas * crop.mask

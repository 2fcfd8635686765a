"""The synthetic scene's exact renderer behind the trained-field interface.

Why: render/evaluate code and benchmarks need something with `render_view` that is exactly
right, to test video/metric code without training a NeRF and to give the upper bound a
method can reach (the true object-free scene). It works in the store's normalised
coordinates, like a field loaded from the store.
"""

from __future__ import annotations

import numpy as np

from inpaint3d_core.cameras import Normalization
from inpaint3d_core.synthetic.scene import SyntheticScene


class ExactRenderer:
    """Renders the synthetic world for cameras given in normalised scene coordinates.

    with_object: False renders the removal ground truth, True the captured scene.
    supersample: rays per pixel side (None = the scene config's).
    """

    def __init__(
        self,
        scene: SyntheticScene,
        normalization: Normalization,
        with_object: bool = False,
        supersample: int | None = None,
    ):
        self.world = scene.world
        self.normalization = normalization
        self.with_object = with_object
        self.supersample = scene.config.rays_per_pixel_side if supersample is None else int(supersample)

    def render_view(self, K: np.ndarray, c2w: np.ndarray, width: int, height: int) -> dict[str, np.ndarray]:
        """rgb (H, W, 3) float32 in [0, 1], depth (H, W) float32 normalised z-depth, acc (H, W) ones."""
        c2w_world = self.normalization.invert_c2w(np.asarray(c2w, dtype=np.float64))
        view = self.world.render(np.asarray(K, dtype=np.float64), c2w_world, int(width), int(height), self.supersample)
        rgb = view.rgb if self.with_object else view.gt_rgb
        depth = view.depth if self.with_object else view.gt_depth
        return {
            "rgb": rgb.astype(np.float32) / 255.0,
            "depth": (depth * self.normalization.scale).astype(np.float32),
            "acc": np.ones((int(height), int(width)), dtype=np.float32),
        }

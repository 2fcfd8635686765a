"""What a synthetic scene looks like, as one typed, validated config with named size presets.

Why presets: tests, the CPU demo and GPU benchmarks need the same scene at very different sizes;
a preset changes only resolution, view count and anti-aliasing, so a scene's geometry, textures
and cameras stay comparable across them for the same seed.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

PresetName = Literal["tiny", "quick", "full"]

# Deepest piece of furniture against a wall; cameras must stay clear of it (see the validator).
MAX_FURNITURE_DEPTH = 0.8
# Forward trajectory: half-size of the camera patch (right, up) per unit of baseline x distance
# (a handheld sweep is wider than tall), and the forward/backward swing as a fraction of radius.
FORWARD_PATCH_HALF = np.array([0.5, 0.3])
FORWARD_DEPTH_SWING = 0.05
# Half-width of the optional table under the object, in units of object_size.
TABLE_HALF_WIDTH = 2.5

_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"width": 48, "height": 36, "n_views": 8},
    "quick": {"width": 96, "height": 72, "n_views": 16},
    "full": {"width": 256, "height": 192, "n_views": 40},
}


class SyntheticConfig(BaseModel):
    """A textured room with furniture, one removable object at the origin, cameras on an arc
    around it or (trajectory='forward') on a small handheld-like patch in front of it.

    World axes: z up, the floor is z = 0, the object stands on the floor at the origin and every
    camera looks at the object's centre. Lengths are in scene units (about metres).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = Field(0, description="Seed for textures, furniture, object proportions and camera jitter.")
    width: int = Field(96, ge=16, le=4096, description="Image width in pixels.")
    height: int = Field(72, ge=16, le=4096, description="Image height in pixels.")
    n_views: int = Field(16, ge=1, le=1000, description="Number of cameras.")
    trajectory: Literal["arc", "forward"] = Field(
        "arc",
        description="'arc': cameras spread over an arc around the object; 'forward': a forward-facing handheld "
        "capture (LLFF/SPIn-NeRF-like) on a small patch at azimuth arc_center_degrees, all looking at the object.",
    )
    baseline: float = Field(
        0.15,
        gt=0.0,
        le=0.5,
        description="Forward trajectory: width of the camera patch as a fraction of radius (the distance to the "
        "object); LLFF/SPIn-NeRF handheld captures span about 0.1-0.2. The patch faces arc_center_degrees.",
    )
    arc_degrees: float = Field(
        120.0, gt=0.0, le=360.0, description="Angular span of the camera arc around the object; 360 is a full orbit."
    )
    arc_center_degrees: float = Field(45.0, description="Azimuth of the middle of the arc (degrees from +x toward +y).")
    radius: float = Field(2.0, gt=0.0, description="Horizontal distance of the cameras from the object.")
    camera_height: float = Field(1.2, gt=0.0, description="Camera height above the floor.")
    fov_degrees: float = Field(
        60.0, gt=5.0, lt=150.0, description="Horizontal field of view; ignored when focal_px is set."
    )
    focal_px: float | None = Field(None, gt=0.0, description="Focal length in pixels (overrides fov_degrees).")
    jitter: float = Field(
        0.02,
        ge=0.0,
        le=0.1,
        description="Std of random offsets of camera positions and look-at targets, as a fraction of radius.",
    )
    object_type: Literal["sphere", "box"] = Field("sphere", description="Shape of the removable object.")
    object_size: float = Field(
        0.35, gt=0.0, description="Sphere radius, or the box's typical half-extent (proportions vary by seed)."
    )
    table_height: float = Field(
        0.0,
        ge=0.0,
        le=1.5,
        description="0: the object stands on the floor; > 0: on a square table of this height at the origin "
        "(half-width TABLE_HALF_WIDTH x object_size), whose top hides what lies under and close behind the object.",
    )
    room_half_width: float = Field(3.2, gt=0.0, description="The room spans [-w, w] in x and y.")
    room_height: float = Field(2.8, gt=0.0, description="Height of the ceiling.")
    n_furniture: int = Field(4, ge=0, le=32, description="Boxes standing against the walls (depth variation).")
    textures: Literal["noise", "structured"] = Field(
        "noise",
        description="'structured': walls, floor and furniture get brick, stone, wood or foliage patterns (edges and "
        "lines, chosen per seed); the object keeps its vivid noise texture. 'noise': noise everywhere.",
    )
    n_clutter: int = Field(
        0,
        ge=0,
        le=32,
        description="Boxes, wall panels and poles standing behind the object at several depths "
        "(`inpaint3d_core.synthetic.clutter`): a cluttered background for mask propagation tests.",
    )
    supersample: int | None = Field(
        None,
        ge=1,
        le=8,
        description="Rays per pixel side; colours are box-filtered over them (anti-aliasing). "
        "None: 2 below 512 px, 1 from 512 px up (the finest texture detail then spans several pixels).",
    )

    @property
    def camera_extent(self) -> tuple[float, float, float]:
        """Bounds on where cameras can stand: (largest |x| or |y|, lowest height, highest height),
        jitter counted at 4 sigma (horizontally only on the arc, as it always was). The arc may
        face any azimuth, so its bound is the radius; the forward patch's is along its own azimuth."""
        sigma4 = 4.0 * self.jitter * self.radius
        if self.trajectory == "arc":
            return self.radius + sigma4, self.camera_height, self.camera_height
        half = FORWARD_PATCH_HALF * self.baseline * self.radius
        # Offsets from the patch centre in any horizontal direction (the tilted up axis included).
        spread = math.hypot(FORWARD_DEPTH_SWING * self.radius + half[1] + sigma4, half[0] + sigma4)
        phi = math.radians(self.arc_center_degrees)
        reach = self.radius * max(abs(math.cos(phi)), abs(math.sin(phi))) + spread
        return reach, self.camera_height - half[1] - sigma4, self.camera_height + half[1] + sigma4

    @model_validator(mode="after")
    def _fits_in_room(self) -> SyntheticConfig:
        reach, low, high = self.camera_extent
        free = self.room_half_width - MAX_FURNITURE_DEPTH - 0.1
        if reach >= free:
            raise ValueError(
                f"cameras at radius {self.radius} (jitter {self.jitter}, trajectory {self.trajectory}) would hit the "
                f"furniture of a room of half-width {self.room_half_width}: make room_half_width larger than "
                f"{reach + MAX_FURNITURE_DEPTH + 0.1:.2f}"
            )
        if high >= self.room_height - 0.1 or low <= 0.0:
            raise ValueError(
                f"cameras reach heights {low:.2f}..{high:.2f}: keep them between the floor and room_height "
                f"{self.room_height} (change camera_height, baseline or jitter)"
            )
        if self.table_height > 0.0 and low <= self.table_height:
            raise ValueError(f"cameras reach down to {low:.2f}, below the table top at {self.table_height}")
        if self.object_size * 1.5 >= self.radius:
            raise ValueError(f"object_size {self.object_size} is too large for cameras at radius {self.radius}")
        return self

    @classmethod
    def preset(cls, name: PresetName, **overrides: Any) -> SyntheticConfig:
        """tiny = 48x36, 8 views (unit tests); quick = 96x72, 16 views (CPU demo); full = 256x192, 40 views (GPU)."""
        if name not in _PRESETS:
            raise ValueError(f"unknown synthetic preset {name!r}: choose one of {sorted(_PRESETS)}")
        return cls(**{**_PRESETS[name], **overrides})

    @property
    def rays_per_pixel_side(self) -> int:
        """The supersampling actually used (resolves supersample=None by image size)."""
        if self.supersample is not None:
            return self.supersample
        return 2 if max(self.width, self.height) < 512 else 1

    @property
    def focal(self) -> float:
        """Focal length in pixels (from focal_px, else from the horizontal field of view)."""
        if self.focal_px is not None:
            return float(self.focal_px)
        return 0.5 * self.width / math.tan(math.radians(self.fov_degrees) / 2.0)

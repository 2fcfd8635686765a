"""The NeRF's configs and choices: torch-free, so stage configs (and the CLI options built from
them) can name them without importing torch."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CompileMode = Literal["auto", "on", "off"]
ContractionKind = Literal["linf", "l2", "none"]
Spacing = Literal["linear", "disparity"]


class FieldConfig(BaseModel):
    """Everything needed to rebuild a field (stored in the inpaint group's attributes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: int = Field(16, description="Hash-grid levels.", ge=1)
    features_per_level: int = Field(2, description="Features per hash-grid level.", ge=1)
    log2_table_size: int = Field(19, description="log2 of the hash table size per level.", ge=8, le=24)
    base_resolution: int = Field(16, description="Coarsest grid resolution.", ge=2)
    max_resolution: int = Field(2048, description="Finest grid resolution (over the contracted cube).", ge=4)
    hidden_dim: int = Field(64, description="Width of the density MLP.", ge=8)
    geo_feature_dim: int = Field(15, description="Geometry features passed to the colour MLP.", ge=1)
    color_hidden_dim: int = Field(64, description="Width of the colour MLP.", ge=8)
    color_layers: int = Field(2, description="Hidden layers of the colour MLP.", ge=1)
    sh_degree: int = Field(4, description="Spherical-harmonics bands for the view direction (1-5).", ge=1, le=5)
    contraction: ContractionKind = Field("linf", description="Scene contraction for unbounded captures.")
    inner_radius: float = Field(1.0, description="Radius kept uncontracted (normalised scene units).", gt=0)
    appearance_dim: int = Field(0, description="Per-view appearance embedding size (0 = off).", ge=0)
    num_views: int = Field(0, description="Number of appearance codes (training views).", ge=0)


class RenderSettings(BaseModel):
    """How rays are sampled and composited (stored beside the field so renders match training)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sampler: Literal["auto", "stratified", "occupancy"] = Field(
        "auto", description="Ray sampler: nerfacc occupancy grid on CUDA ('auto'), pure-torch otherwise."
    )
    near: float = Field(0.05, description="Near distance along rays (normalised scene units).", gt=0)
    far: float = Field(6.0, description="Far distance along rays (normalised scene units).", gt=0)
    num_coarse: int = Field(32, description="Stratified sampler: coarse samples per ray.", ge=2)
    num_fine: int = Field(32, description="Stratified sampler: importance samples per ray.", ge=0)
    spacing: Spacing = Field("disparity", description="Stratified sampler: spacing of the coarse samples.")
    grid_resolution: int = Field(128, description="Occupancy grid: cells per axis per level.", ge=16)
    grid_levels: int = Field(4, description="Occupancy grid: levels, each doubling the box.", ge=1)
    render_step_size: float = Field(5e-3, description="Occupancy grid: marching step.", gt=0)
    cone_angle: float = Field(4e-3, description="Occupancy grid: step growth with distance.", ge=0)
    background: tuple[float, float, float] = Field(
        (0.0, 0.0, 0.0), description="Colour behind the field (rays that hit nothing)."
    )
    compile: CompileMode = Field(
        "auto", description="torch.compile the field: auto = on CUDA only (eager fallback if compiling fails)."
    )
    chunk_rays: int | None = Field(
        None, ge=256, description="Rays per chunk when rendering whole images (None: chosen from device memory)."
    )

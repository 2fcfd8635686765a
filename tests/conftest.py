"""Shared test setup: GPU tests skip cleanly on CPU; real data is read from ../shared/data; benchmarks/
modules are importable."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
# Random-weight model builders and the SDS timing live in benchmarks/ (benchmark scripts use them
# too); tests import them as top-level modules (`from sd_models import ...`).
if str(REPO / "benchmarks") not in sys.path:
    sys.path.insert(0, str(REPO / "benchmarks"))


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip when this checkout has none beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real captures not found at {SHARED_DATA}")
    return SHARED_DATA


# --- synthetic scenes (inpaint3d_core.synthetic): exact ground truth for every stage's tests ---
@pytest.fixture(scope="session")
def synthetic_scene():
    """The tiny preset (48x36 px, 8 views, sphere), generated once per test session."""
    from inpaint3d_core.synthetic import SyntheticConfig, generate_scene

    return generate_scene(SyntheticConfig.preset("tiny"))


@pytest.fixture
def make_synthetic_store():
    """Factory `make_synthetic_store(path, scene)`: a SceneStore at `path` with ingest, poses
    (normalised exact cameras, sparse points) and masks groups written from `scene`."""
    from inpaint3d_core.store import SceneStore
    from inpaint3d_core.synthetic import write_store

    def make(path, scene):
        store = SceneStore(path)
        write_store(scene, store)
        return store

    return make


@pytest.fixture
def synthetic_store(tmp_path, synthetic_scene, make_synthetic_store):
    """A fresh store filled from the session's tiny synthetic scene."""
    return make_synthetic_store(tmp_path / "scene.zarr", synthetic_scene)


# --- a stand-in for the trained field (render/evaluate tests without training a NeRF) ---
class ExactSceneField:
    """The synthetic oracle (`ExactRenderer`: the trained field's `render_view` contract in the
    store's normalised scene) with optional Gaussian colour `noise` (an imperfect field) and a
    count of the views it rendered."""

    def __init__(self, scene, normalization, with_object=False, noise=0.0, seed=0):
        from inpaint3d_core.synthetic import ExactRenderer

        self.oracle = ExactRenderer(scene, normalization, with_object=with_object)
        self.noise, self.rng, self.calls = noise, np.random.default_rng(seed), 0

    def render_view(self, K, c2w, width, height):
        self.calls += 1
        out = self.oracle.render_view(K, c2w, width, height)
        if self.noise:
            out["rgb"] = np.clip(out["rgb"] + self.rng.normal(0.0, self.noise, out["rgb"].shape), 0.0, 1.0)
        return out


@pytest.fixture
def stand_in_field(synthetic_store, synthetic_scene, monkeypatch):
    """The tiny synthetic store with a complete (empty) `inpaint` record and `stages.render.load_field`
    patched to ExactSceneField. Returns `use(final={...}, warmup={...} or None)`: ExactSceneField
    options of the final and warm-up fields (warmup=None: none stored); it returns the fields."""
    from inpaint3d_core.config_types import StageConfig
    from inpaint3d_core.errors import InputError
    from inpaint3d_core.scene import load_posed_views
    from inpaint3d_core.stage import StageSpec, run_stage
    from stages import render

    inpaint_spec = StageSpec("inpaint", 1, upstream=("ingest", "poses", "masks"))
    run_stage(synthetic_store, inpaint_spec, StageConfig(), lambda ctx: {})
    norm = load_posed_views(synthetic_store).normalization

    def use(final=None, warmup=None):
        fields = {"final": ExactSceneField(synthetic_scene, norm, **(final or {}))}
        if warmup is not None:
            fields["warmup"] = ExactSceneField(synthetic_scene, norm, **warmup)

        def load_field(store, device, which="final"):
            if which not in fields:
                raise InputError(f"{store.url}: no {which} field stored")
            return fields[which]

        monkeypatch.setattr(render, "load_field", load_field)
        return fields

    return use

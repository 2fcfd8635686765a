"""Shared test setup: GPU tests skip cleanly on CPU; real data is read from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


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

"""The nerfstudio export loads with nerfstudio's own dataparser and dataset (issue 18).

nerfstudio is not a project dependency (it pins its own OpenCV, viser and more), so the check
runs in another interpreter named by `NERFSTUDIO_PYTHON` and is skipped without one. One that
works (2026-12-02, nerfstudio 1.1.5; torch etc. shared read-only with the project's venv):
    python3.11 -m venv /tmp/nsvenv && /tmp/nsvenv/bin/pip install nerfstudio==1.1.5 --no-deps
    /tmp/nsvenv/bin/pip install jaxtyping viser tensorboard
    echo $PWD/.venv/lib/python3.11/site-packages > /tmp/nsvenv/lib/python3.11/site-packages/zz_project.pth
    NERFSTUDIO_PYTHON=/tmp/nsvenv/bin/python pytest tests/inpaint3d_core/io/test_nerfstudio_dataparser.py
Without it, test_nerfstudio_export.py checks the documented keys, every path and size.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from inpaint3d_core.io.nerfstudio_export import write_nerfstudio_dataset
from inpaint3d_core.scene import load_masks, load_posed_views

CHECK = Path(__file__).with_name("nerfstudio_dataparser_check.py")


def test_nerfstudios_dataparser_reads_the_export(synthetic_store, tmp_path):
    python = os.environ.get("NERFSTUDIO_PYTHON")
    if not python:
        pytest.skip("NERFSTUDIO_PYTHON (an interpreter with nerfstudio installed) is not set")
    views = load_posed_views(synthetic_store)
    indices = views.indices(role="train")
    write_nerfstudio_dataset(tmp_path / "ns", views, indices, views.image, load_masks(synthetic_store, dilated=True))
    c2w = views.normalization.invert_c2w(views.cameras.c2w)[indices]
    np.savez(tmp_path / "expected.npz", c2w=c2w, K=views.cameras.K[indices])
    done = subprocess.run(
        [python, str(CHECK), str(tmp_path / "ns"), str(tmp_path / "expected.npz")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"nerfstudio loaded {len(indices)} frames" in done.stdout

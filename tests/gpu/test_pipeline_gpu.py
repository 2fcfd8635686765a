"""Every stage at real size on CUDA: a SPIn-NeRF-shaped 1008x567 capture, the job the CLI builds.

Fewer views (20, 8 of them object-free test views) and 5% of the full preset's steps keep it to
minutes; the sizes every stage handles (images, masks with > 32767 pixels per view, render chunks,
the evaluate stage's consistency warps and seen/unseen scores) are the real ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from flows.job import build_job
from inpaint3d_core.scene import read_metrics, read_view_render
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic.spinnerf import spinnerf_config, write_spinnerf_capture
from stages.pipeline import PIPELINE

pytestmark = pytest.mark.gpu


def test_every_stage_at_1008x567_on_cuda(tmp_path):
    capture = write_spinnerf_capture(
        spinnerf_config("full", seed=0, n_views=20), tmp_path / "capture", n_test=8, image_format="jpg", workers=4
    )
    values = {
        "capture": str(capture.folder),
        "store": str(tmp_path / "scene.zarr"),
        "preset": "full",
        "protocol": "spinnerf",
        "ingest": {"n_gt": capture.n_test},
        "inpaint": {"steps_scale": 0.05},
        "render": {"n_frames": 8},
    }
    job = build_job(list(PIPELINE), values)
    store = SceneStore(values["store"])
    for stage in PIPELINE:
        stage.run(store, job.stage_config(stage.SPEC.name))
    assert store.record("inpaint").summary["device"] == "cuda"
    view = read_view_render(store, 0)
    assert view["rgb"].shape == (567, 1008, 3) and np.isfinite(view["depth"]).all()
    metrics = read_metrics(store)
    assert metrics["scored_views"] == "test" and len(metrics["per_view"]) == capture.n_test
    assert {"bbox", "masked", "seen", "unseen"} <= set(metrics["mean"])
    assert metrics["consistency"] is not None and np.isfinite(metrics["consistency"]["photometric_l1"])

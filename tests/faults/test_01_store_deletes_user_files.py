"""Case 1: the store deleted user files (`--store` at a capture removed its masks/; `demo --out`
removed a capture folder it had not written). It must refuse, exit 2, and touch nothing."""

from __future__ import annotations

import numpy as np
import pytest
from fault_helpers import one_line_error, tree_digest, write_photos

from inpaint3d_core.config_types import StageConfig
from inpaint3d_core.stage import StageSpec, run_stage
from inpaint3d_core.store import ForeignFilesError, SceneStore, write_views

MASKS = StageSpec("masks", 1)


def _write_masks_stage(store: SceneStore) -> None:
    run_stage(store, MASKS, StageConfig(), lambda ctx: write_views(ctx.group, "raw", [np.ones((2, 2), np.uint8)]))


def test_store_pointed_at_the_capture_is_refused_and_deletes_nothing(cli, photo_capture):
    before = tree_digest(photo_capture)
    code, _, err = cli("ingest", photo_capture, "--store", photo_capture)
    assert code == 2
    assert "not a scene store" in one_line_error(err)
    assert tree_digest(photo_capture) == before  # masks/*.png still there, nothing added


def test_foreign_files_in_a_store_are_refused_and_kept(tmp_path):
    store = SceneStore(tmp_path / "s.zarr")
    with store.writing():
        _write_masks_stage(store)
    mine = tmp_path / "s.zarr" / "masks" / "IMG_0.png"
    mine.write_bytes(b"the user's own mask")
    with pytest.raises(ForeignFilesError, match="IMG_0.png"):
        run_stage(store, MASKS, StageConfig(), lambda ctx: {}, force=True)  # would replace masks/
    assert mine.read_bytes() == b"the user's own mask"
    (tmp_path / "s.zarr" / "notes.txt").write_text("keep me")
    with pytest.raises(ForeignFilesError, match="notes.txt"):
        SceneStore(tmp_path / "s.zarr")
    assert (tmp_path / "s.zarr" / "notes.txt").read_text() == "keep me"


def test_demo_never_deletes_a_capture_folder_it_did_not_write(cli, tmp_path):
    capture = write_photos(tmp_path / "out" / "capture", ["holiday_1", "holiday_2"])
    before = tree_digest(capture)
    code, _, err = cli("demo", "--out", tmp_path / "out")
    assert code == 2
    assert "not written by the demo" in one_line_error(err)
    assert tree_digest(capture) == before

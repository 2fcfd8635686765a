"""Case 3: the cache ignored the capture's contents (photos added, removed or replaced under the
same path: "ingest up to date"), and the batch inbox's done marker hashed only the job file."""

from __future__ import annotations

import os

from fault_helpers import write_photos

from inpaint3d_core.store import SceneStore
from stages import ingest


def test_ingest_sees_photos_added_removed_and_replaced(tmp_path):
    capture = write_photos(tmp_path / "photos", [f"IMG_{i}" for i in range(4)])
    store, config = SceneStore(tmp_path / "s.zarr"), ingest.Config(capture=str(capture))
    assert ingest.run(store, config).summary["views"] == 4
    assert ingest.run(store, config).skipped  # nothing changed: cached
    write_photos(capture, ["IMG_4", "IMG_5"], seed=1)
    (capture / "IMG_0.png").unlink()
    result = ingest.run(store, config)
    assert not result.skipped and result.summary["views"] == 5
    stat = (capture / "IMG_1.png").stat()
    write_photos(capture, ["IMG_1"], seed=2)  # same name and size, other pixels
    os.utime(capture / "IMG_1.png", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old time
    assert not ingest.run(store, config).skipped


def test_copying_a_capture_keeps_the_cache(tmp_path):
    """Content hashes, not times: a capture staged again from a remote inbox (new mtimes) is cached."""
    capture = write_photos(tmp_path / "photos", ["a", "b", "c"])
    store, config = SceneStore(tmp_path / "s.zarr"), ingest.Config(capture=str(capture))
    ingest.run(store, config)
    for path in capture.iterdir():
        os.utime(path, (1, 1))
    assert ingest.run(store, config).skipped


def test_batch_done_marker_covers_the_capture(tmp_path):
    from flows.batch_flow import Outbox, job_digest  # imports Prefect: not at collection (PREFECT_HOME)

    capture = write_photos(tmp_path / "inbox" / "garden", ["a", "b", "c"])
    box, values = Outbox(str(tmp_path / "outbox")), {"preset": "quick"}
    digest = job_digest(values, None, str(capture))
    box.record_success("garden", digest, {"store": box.store("garden")})
    assert box.is_done("garden", job_digest(values, None, str(capture)))
    write_photos(capture, ["d"], seed=3)
    assert not box.is_done("garden", job_digest(values, None, str(capture)))

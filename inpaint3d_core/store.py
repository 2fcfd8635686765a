"""The scene store: one zarr v3 group per scene, one subgroup per stage.

Why this shape: stages must be resumable, cacheable and independently runnable (CLI, Python,
Prefect) on any machine, so every artifact lives in one addressable place (a path or an fsspec
URL) with enough metadata to decide whether it is still valid.

Contract (see DESIGN.md "Contracts"):
- A stage writes into a temporary group `_tmp_<stage>_<id>`; only when its compute finishes is
  the record (attributes under the key ``inpaint3d``) written with ``complete: true`` and the
  group moved to `<stage>`. Readers only accept groups whose record says complete, so a
  half-written group is never read, whatever the storage backend's rename semantics.
- The record holds the stage name, schema version, config, the fingerprints of its inputs, its
  own fingerprint (hash of all of those), timings, library versions and a small summary.
- One writer at a time: a lock file beside the store (`<store>.lock`, outside the zarr
  hierarchy) names the holder (host, pid); a lock whose process is dead on this host is stale
  and is taken over.
- Only zarr arrays and groups live inside the store; files such as videos are stored as byte
  arrays (`write_bytes`) and written out by `inpaint3d export`.
- `_work/<stage>` is a scratch group that survives failures (checkpoints for resuming); it is
  tied to the fingerprint it was written for and dropped when the stage commits.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np
import zarr

from inpaint3d_core.errors import InputError

RECORD_KEY = "inpaint3d"
LOCK_SUFFIX = ".lock"
TMP_PREFIX = "_tmp_"
WORK_GROUP = "_work"


class StoreError(InputError):
    """A problem with the scene store that the user can act on (message says what to do)."""


class StoreLockedError(StoreError):
    """Another live process holds the store's writer lock."""


class StageNotReadyError(StoreError):
    """A stage's group is missing or incomplete."""


@dataclass
class StageRecord:
    """What a complete stage group says about itself (its attributes)."""

    stage: str
    schema_version: int
    config: dict[str, Any]
    inputs: dict[str, str]
    fingerprint: str
    complete: bool
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    finished_at: str = ""

    def to_attrs(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> StageRecord:
        return cls(**attrs)


def _json_ready(value: Any) -> Any:
    """Make summaries JSON-safe (numpy scalars/arrays appear in them naturally)."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


class SceneStore:
    """A scene's zarr v3 store addressed by a local path or an fsspec URL."""

    def __init__(self, url: str | os.PathLike):
        self.url = str(url)
        self.fs, self.root_path = fsspec.core.url_to_fs(self.url)
        self._lock_depth = 0
        self.fs.makedirs(self.root_path, exist_ok=True)
        self.root = zarr.open_group(self.url, mode="a", zarr_format=3)

    def __repr__(self) -> str:
        return f"SceneStore({self.url!r})"

    # ------------------------------------------------------------------ paths
    def _path(self, *parts: str) -> str:
        return "/".join([self.root_path.rstrip("/"), *parts])

    @property
    def lock_path(self) -> str:
        return self.root_path.rstrip("/") + LOCK_SUFFIX

    @property
    def is_local(self) -> bool:
        return "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))

    # ------------------------------------------------------------------ lock
    @contextlib.contextmanager
    def writing(self) -> Iterator[SceneStore]:
        """Hold the store's writer lock (re-entrant within this object)."""
        if self._lock_depth == 0:
            self._acquire_lock()
            self._drop_leftover_tmp_groups()
        self._lock_depth += 1
        try:
            yield self
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                self._release_lock()

    def _lock_info(self) -> dict[str, Any]:
        return {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()}

    def _acquire_lock(self) -> None:
        path = self.lock_path
        payload = json.dumps(self._lock_info()).encode()
        for _ in range(2):
            if self._create_exclusive(path, payload):
                return
            holder = self._read_lock(path)
            if holder is not None and not _is_stale(holder):
                raise StoreLockedError(
                    f"store {self.url} is being written by pid {holder.get('pid')} on host "
                    f"{holder.get('host')} (lock file {path}). Wait for it to finish; if that process "
                    "is gone on another machine, delete the lock file."
                )
            self.fs.rm(path)  # stale (dead process on this host) or unreadable: take it over
        raise StoreLockedError(f"could not take the writer lock {path}: another writer raced for it")

    def _create_exclusive(self, path: str, payload: bytes) -> bool:
        if self.is_local:
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            return True
        # Object stores have no exclusive create; check-then-write is the best they offer.
        if self.fs.exists(path):
            return False
        self.fs.pipe_file(path, payload)
        return True

    def _read_lock(self, path: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.fs.cat_file(path))
        except (FileNotFoundError, ValueError):
            return None

    def _release_lock(self) -> None:
        path = self.lock_path
        holder = self._read_lock(path)
        if holder and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
            self.fs.rm(path)

    def _drop_leftover_tmp_groups(self) -> None:
        """Temporary groups left by a killed writer are garbage: nobody else can be writing."""
        for name in list(self.root.group_keys()):
            if name.startswith(TMP_PREFIX):
                self._remove(name)

    # ------------------------------------------------------------------ groups
    def _remove(self, name: str) -> None:
        path = self._path(name)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def _reopen(self) -> None:
        self.root = zarr.open_group(self.url, mode="a", zarr_format=3)

    def record(self, stage: str) -> StageRecord | None:
        """The record of `stage` if its group exists and is complete, else None."""
        if stage not in set(self.root.group_keys()):
            return None
        attrs = dict(self.root[stage].attrs).get(RECORD_KEY)
        if not attrs or not attrs.get("complete"):
            return None
        return StageRecord.from_attrs(attrs)

    def stages(self) -> list[str]:
        """Names of the complete stage groups."""
        return sorted(n for n in self.root.group_keys() if not n.startswith("_") and self.record(n))

    def read(self, stage: str) -> zarr.Group:
        """The complete group of `stage`, read-only; a clear error if it is missing or incomplete."""
        if self.record(stage) is None:
            raise StageNotReadyError(
                f"stage '{stage}' has no complete result in {self.url}: run `inpaint3d {stage} {self.url}` first"
            )
        return zarr.open_group(self.url, mode="r", zarr_format=3, path=stage)

    def begin(self, stage: str) -> zarr.Group:
        """A fresh temporary group to write a stage into (requires the writer lock)."""
        self._require_lock()
        return self.root.create_group(f"{TMP_PREFIX}{stage}_{uuid.uuid4().hex[:8]}")

    def abort(self, tmp: zarr.Group) -> None:
        self._remove(tmp.basename)

    def commit(self, tmp: zarr.Group, record: StageRecord) -> None:
        """Mark `tmp` complete, then move it into place of `record.stage` (replacing the old one)."""
        self._require_lock()
        record.complete = True
        tmp.attrs[RECORD_KEY] = _json_ready(record.to_attrs())
        stage = record.stage
        old = None
        if self.fs.exists(self._path(stage)):
            old = f"{TMP_PREFIX}old_{stage}_{uuid.uuid4().hex[:8]}"
            self.fs.mv(self._path(stage), self._path(old), recursive=True)
        self.fs.mv(self._path(tmp.basename), self._path(stage), recursive=True)
        if old:
            self._remove(old)
        self._remove(f"{WORK_GROUP}/{stage}")
        self._reopen()

    def invalidate(self, stage: str) -> None:
        """Delete a stage's result (used by `--force`-style reruns and tests)."""
        with self.writing():
            self._remove(stage)
            self._reopen()

    def scratch(self, stage: str, fingerprint: str) -> zarr.Group:
        """Persistent scratch group for `stage` (checkpoints); reset if written for another fingerprint."""
        self._require_lock()
        work = self.root.require_group(WORK_GROUP)
        if stage in set(work.group_keys()):
            group = work[stage]
            if dict(group.attrs).get("fingerprint") == fingerprint:
                return group
            self._remove(f"{WORK_GROUP}/{stage}")
            self._reopen()
            work = self.root.require_group(WORK_GROUP)
        group = work.create_group(stage)
        group.attrs["fingerprint"] = fingerprint
        return group

    def _require_lock(self) -> None:
        if self._lock_depth == 0:
            raise StoreError("writing to the store needs its writer lock: use `with store.writing():`")


def _is_stale(holder: dict[str, Any]) -> bool:
    """A lock is stale when its process no longer exists on this host."""
    if holder.get("host") != socket.gethostname():
        return False
    pid = int(holder.get("pid", -1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# ---------------------------------------------------------------------- per-view arrays
def write_views(group: zarr.Group, key: str, arrays: list[np.ndarray]) -> None:
    """Store one array per view under `key/<index>` (one chunk each), so views may differ in size
    and one view can be read without the others."""
    sub = group.require_group(key)
    for i, arr in enumerate(arrays):
        sub.create_array(view_key(i), data=np.ascontiguousarray(arr), chunks=arr.shape, overwrite=True)
    sub.attrs["count"] = len(arrays)


def view_key(index: int) -> str:
    return f"{index:05d}"


def read_view(group: zarr.Group, key: str, index: int) -> np.ndarray:
    return np.asarray(group[key][view_key(index)][...])


def read_views(group: zarr.Group, key: str) -> list[np.ndarray]:
    count = int(group[key].attrs["count"])
    return [read_view(group, key, i) for i in range(count)]


def write_bytes(group: zarr.Group, key: str, payload: bytes) -> None:
    """Store an opaque blob (e.g. safetensors weights) as a uint8 array."""
    group.create_array(key, data=np.frombuffer(payload, dtype=np.uint8), overwrite=True)


def read_bytes(group: zarr.Group, key: str) -> bytes:
    return np.asarray(group[key][...]).tobytes()

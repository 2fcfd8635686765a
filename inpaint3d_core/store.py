"""The scene store: one zarr v3 group per scene, one subgroup per stage.

Why this shape: stages must be resumable, cacheable and independently runnable (CLI, Python,
Prefect) on any machine, so every artifact lives in one addressable place (a path or an fsspec
URL) with enough metadata to decide whether it is still valid.

Contract (the README's "The pipeline" says what it gives a user):
- A stage writes into a temporary group `_tmp_<stage>_<id>`; only when its compute finishes is
  the record (attributes under the key ``inpaint3d``) written with ``complete: true`` and the
  group moved to `<stage>`. Readers only accept groups whose record says complete, so a
  half-written group is never read, whatever the storage backend's rename semantics.
- The record holds the stage name, schema and code versions, config, the fingerprints of its inputs, its
  own fingerprint (hash of all of those), timings, library versions and a small summary.
- One writer at a time: a lock file beside the store (`<store>.lock`, outside the zarr
  hierarchy) names the holder (host, pid); a lock whose process is dead on this host is stale
  and is taken over.
- Only zarr arrays and groups live inside the store; files such as videos are stored as byte
  arrays (`write_bytes`) and written out by `inpaint3d export`.
- `_work/<stage>` is a scratch group that survives failures (checkpoints for resuming); it is
  tied to the fingerprint it was written for and dropped when the stage commits.
- The store deletes and overwrites only what it wrote. Opening a folder that is not a store (a
  capture, a home directory) or a store holding files it did not write is refused; a stage
  group is replaced only when every file in it is one its record lists.
- A completeness record: each stage's record lists its output files with their sizes
  (`outputs`), so a group missing or with a truncated file is seen as damaged (`damage`), not
  reported complete and reused. Sizes, not hashes: checking must stay cheap on a 100-view store;
  a same-size corruption inside a chunk is not detected.
"""

from __future__ import annotations

import contextlib
import errno
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
STORE_KEY = "inpaint3d_store"  # root attribute marking a folder as a scene store written by inpaint3d
LOCK_SUFFIX = ".lock"
TMP_PREFIX = "_tmp_"
WORK_GROUP = "_work"
ZARR_JSON = "zarr.json"


class StoreError(InputError):
    """A problem with the scene store that the user can act on (message says what to do)."""


class StoreLockedError(StoreError):
    """Another live process holds the store's writer lock."""


class StageNotReadyError(StoreError):
    """A stage's group is missing or incomplete."""


class ForeignFilesError(StoreError):
    """The store path holds files the store did not write; they are never deleted or overwritten."""


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
    outputs: dict[str, int] | None = None  # relative file path -> size in bytes (None: older store)
    code_version: int | None = None  # the stage's behaviour version (None: recorded before there was one)

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
        self._refuse_foreign_location()
        with _writable(self.url):
            self.fs.makedirs(self.root_path, exist_ok=True)
            self.root = zarr.open_group(self.url, mode="a", zarr_format=3)
            if STORE_KEY not in self.root.attrs:
                self.root.attrs[STORE_KEY] = {"version": 1}

    def _refuse_foreign_location(self) -> None:
        """A store is created only in a new or empty folder, and reopened only when everything at
        its top level is its own (zarr nodes, its temporary and scratch groups)."""
        path = self.root_path.rstrip("/")
        if self.fs.isfile(path):
            raise StoreError(f"store path {self.url} is a regular file; pass a new folder name for the store")
        if not self.fs.isdir(path):
            return
        entries = self.fs.ls(path, detail=True)
        if not entries:
            return
        names = {e["name"].rstrip("/").rsplit("/", 1)[-1]: e for e in entries}
        if ZARR_JSON not in names:
            raise ForeignFilesError(
                f"{self.url} is a folder that is not a scene store (it holds {_examples(names)}); "
                "the store never writes into it: pass a new or empty folder to --store"
            )
        foreign = [
            n
            for n, e in names.items()
            if n != ZARR_JSON and not (e["type"] == "directory" and self.fs.exists(f"{path}/{n}/{ZARR_JSON}"))
        ]
        if foreign:
            raise ForeignFilesError(
                f"store {self.url} holds files it did not write ({_examples(dict.fromkeys(foreign))}); "
                "move them out of the store folder, or pass another --store"
            )

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
        with _writable(self.url):
            return self._create_exclusive_unchecked(path, payload)

    def _create_exclusive_unchecked(self, path: str, payload: bytes) -> bool:
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

    def damage(self, stage: str) -> list[str]:
        """What is wrong with `stage`'s complete group: its listed outputs that are missing or whose
        size changed (empty when intact, or when the record predates output lists)."""
        record = self.record(stage)
        if record is None or record.outputs is None:
            return []
        present = self._files(stage)
        problems = []
        for rel, size in record.outputs.items():
            if rel not in present:
                problems.append(f"{rel} missing")
            elif present[rel] != size:
                problems.append(f"{rel} is {present[rel]} bytes, {size} written")
        return problems

    def intact_record(self, stage: str) -> StageRecord | None:
        """The record of `stage` if its group is complete and undamaged (what may be reused)."""
        record = self.record(stage)
        return record if record is not None and not self.damage(stage) else None

    def _files(self, group: str) -> dict[str, int]:
        """Files under a group (relative path -> size), without the group's own zarr.json (it
        holds the record, written after the outputs are listed)."""
        base = self._path(group)
        found = self.fs.find(base, detail=True)
        return {
            name[len(base) + 1 :]: int(info["size"])
            for name, info in found.items()
            if name[len(base) + 1 :] != ZARR_JSON
        }

    def stages(self) -> list[str]:
        """Names of the complete stage groups."""
        return sorted(n for n in self.root.group_keys() if not n.startswith("_") and self.record(n))

    def read(self, stage: str) -> zarr.Group:
        """The complete group of `stage`, read-only; a clear error if it is missing, incomplete or damaged."""
        if self.record(stage) is None:
            raise StageNotReadyError(
                f"stage '{stage}' has no complete result in {self.url}: run `inpaint3d {stage} {self.url}` first"
            )
        problems = self.damage(stage)
        if problems:
            raise StageNotReadyError(damage_message(self.url, stage, problems))
        return zarr.open_group(self.url, mode="r", zarr_format=3, path=stage)

    def begin(self, stage: str) -> zarr.Group:
        """A fresh temporary group to write a stage into (requires the writer lock)."""
        self._require_lock()
        return self.root.create_group(f"{TMP_PREFIX}{stage}_{uuid.uuid4().hex[:8]}")

    def abort(self, tmp: zarr.Group) -> None:
        self._remove(tmp.basename)

    def commit(self, tmp: zarr.Group, record: StageRecord) -> None:
        """Mark `tmp` complete, then move it into place of `record.stage` (replacing the old one,
        which must hold nothing but what the store wrote there)."""
        self._require_lock()
        stage = record.stage
        self._refuse_foreign_stage_group(stage)
        record.complete = True
        record.outputs = self._files(tmp.basename)
        tmp.attrs[RECORD_KEY] = _json_ready(record.to_attrs())
        old = None
        if self.fs.exists(self._path(stage)):
            old = f"{TMP_PREFIX}old_{stage}_{uuid.uuid4().hex[:8]}"
            self.fs.mv(self._path(stage), self._path(old), recursive=True)
        self.fs.mv(self._path(tmp.basename), self._path(stage), recursive=True)
        if old:
            self._remove(old)
        self._remove(f"{WORK_GROUP}/{stage}")
        self._reopen()

    def _refuse_foreign_stage_group(self, stage: str) -> None:
        """Replacing `<store>/<stage>` deletes it: allowed only when it is a stage group this store
        committed and every file in it is listed in its record (or it is an older record's group
        holding only zarr files)."""
        path = self._path(stage)
        if not self.fs.exists(path):
            return
        attrs = {}
        if self.fs.exists(f"{path}/{ZARR_JSON}"):
            with contextlib.suppress(ValueError, KeyError):
                attrs = json.loads(self.fs.cat_file(f"{path}/{ZARR_JSON}")).get("attributes", {})
        record = attrs.get(RECORD_KEY)
        if not record:
            raise ForeignFilesError(
                f"{self.url}/{stage} was not written by this store (no stage record); it is never replaced: "
                "move it out of the store folder, or pass another --store"
            )
        files = self._files(stage)
        listed = record.get("outputs")
        if listed is None:
            foreign = sorted(f for f in files if not _is_zarr_file(f))
        else:
            foreign = sorted(f for f in files if f not in listed)
        if foreign:
            raise ForeignFilesError(
                f"{self.url}/{stage} holds files the store did not write ({_examples(dict.fromkeys(foreign))}); "
                "move them out before rerunning the stage"
            )

    def invalidate(self, stage: str) -> None:
        """Delete a stage's result (used by `--force`-style reruns and tests)."""
        with self.writing():
            self._refuse_foreign_stage_group(stage)
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


def damage_message(url: str, stage: str, problems: list[str], remedy: str | None = None) -> str:
    """One line saying a stage group is damaged and what happens or what to do about it."""
    more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
    remedy = remedy or f"run `inpaint3d {stage} {url}` or `inpaint3d run` again to recompute it"
    return f"stage '{stage}' in {url} is damaged ({'; '.join(problems[:3])}{more}): {remedy}"


def _examples(names: dict[str, Any], limit: int = 3) -> str:
    listed = sorted(names)
    more = f" and {len(listed) - limit} more" if len(listed) > limit else ""
    return ", ".join(listed[:limit]) + more


def _is_zarr_file(rel: str) -> bool:
    """A file zarr v3 writes: node metadata or a chunk under an array's `c/` folder."""
    parts = rel.split("/")
    return parts[-1] == ZARR_JSON or "c" in parts[:-1]


_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


@contextlib.contextmanager
def _writable(url: str) -> Iterator[None]:
    """A store on a read-only location is the user's to fix: say so in one line."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _READ_ONLY_ERRNOS:
            raise
        raise StoreError(
            f"store {url} cannot be written ({exc.strerror or exc}); pass a --store on a writable location"
        ) from exc


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

"""The batch flow: every capture folder in an inbox that is not done yet becomes its own flow run.

Inbox layout (local folder or fsspec URL)::

    inbox/<capture name>/...          images, video or a posed dataset
    inbox/<capture name>/job.yaml     optional job file (mask spec, prior, preset, ...)

Outbox layout, per capture: `<name>.zarr` (the scene store), `<name>.done.json` (written on
success with the digest of the job and the capture's file listing) or `<name>.error.txt` (the
failure, rewritten on each failed try). A capture is done when its done marker holds the digest
of its current job and files; a changed job file, or photos added, removed or replaced, rerun it
(the store's fingerprints then recompute only what the change affects). The listing uses what the
filesystem reports without reading the files (name, size, modification time or ETag), so a
remote inbox is checked without downloading it. One failing capture is recorded and never stops
the others.

Two ways to run the captures: `inline` (one after the other as subflows in this process; one GPU)
or `deployment` (each through the single-capture deployment, concurrently, so the work pool's
workers, one per GPU, share them out).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import fsspec
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run
from prefect.states import State

from flows.batch_options import BATCH_DEFAULTS
from flows.job import JOB_FILE_NAMES, load_job_file, merge_job_values
from flows.pipeline_flow import artifact_slug, inpaint_capture
from inpaint3d_core.errors import InputError


@dataclass(frozen=True)
class InboxCapture:
    """One capture folder of the inbox."""

    name: str
    url: str
    job_file: str | None


def _join(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{name}"


def find_captures(inbox: str) -> list[InboxCapture]:
    """Capture folders directly under `inbox` (hidden folders skipped), sorted by name."""
    fs, root = fsspec.core.url_to_fs(inbox)
    if not fs.isdir(root):
        raise InputError(f"inbox {inbox} is not a folder; create it or pass the right path/URL")
    captures = []
    for entry in sorted(fs.ls(root, detail=True), key=lambda e: e["name"]):
        name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
        if entry["type"] != "directory" or name.startswith((".", "_")):
            continue
        url = _join(inbox, name)
        job_file = next((_join(url, f) for f in JOB_FILE_NAMES if fs.exists(_join(_join(root, name), f))), None)
        captures.append(InboxCapture(name=name, url=url, job_file=job_file))
    return captures


@dataclass(frozen=True)
class Outbox:
    """Where a batch writes stores and bookkeeping files (local folder or fsspec URL)."""

    url: str

    def store(self, name: str) -> str:
        return _join(self.url, f"{name}.zarr")

    def done_marker(self, name: str) -> str:
        return _join(self.url, f"{name}.done.json")

    def error_file(self, name: str) -> str:
        return _join(self.url, f"{name}.error.txt")

    def is_done(self, name: str, digest: str) -> bool:
        fs, path = fsspec.core.url_to_fs(self.done_marker(name))
        if not fs.exists(path):
            return False
        try:
            return json.loads(fs.cat_file(path)).get("job_digest") == digest
        except ValueError:
            return False

    def record_success(self, name: str, digest: str, result: dict[str, Any]) -> None:
        marker = {
            "job_digest": digest,
            "store": result.get("store"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._write(self.done_marker(name), json.dumps(marker, indent=2))
        self._remove(self.error_file(name))

    def record_failure(self, name: str, message: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._write(self.error_file(name), f"{stamp} capture {name} failed:\n{message}\n")
        self._remove(self.done_marker(name))

    @staticmethod
    def _write(url: str, text: str) -> None:
        fs, path = fsspec.core.url_to_fs(url)
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, text.encode())

    @staticmethod
    def _remove(url: str) -> None:
        fs, path = fsspec.core.url_to_fs(url)
        if fs.exists(path):
            fs.rm(path)


def capture_listing(url: str) -> list[tuple[str, int, str]]:
    """Every file under a capture folder as (relative path, size, modification stamp)."""
    fs, root = fsspec.core.url_to_fs(url)
    root = root.rstrip("/")
    listing = []
    for name, info in sorted(fs.find(root, detail=True).items()):
        stamp = next((info[k] for k in ("mtime", "LastModified", "last_modified", "ETag", "etag") if k in info), "")
        listing.append((name[len(root) + 1 :], int(info.get("size") or 0), str(stamp)))
    return listing


def job_digest(values: dict[str, Any], pipeline: list[str] | None, capture_url: str | None = None) -> str:
    """Digest of what a capture's result depends on: its job, the pipeline and its files."""
    listing = capture_listing(capture_url) if capture_url is not None else None
    payload = json.dumps({"job": values, "pipeline": pipeline, "capture": listing}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _failure_message(state: State) -> str:
    error = state.result(raise_on_failure=False)
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}"
    return state.message or f"ended in state {state.name}"


@task(name="dispatch-capture", task_run_name="dispatch-{name}")
def dispatch_capture(name: str, deployment: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Run one capture through the single-capture deployment and wait for it (a worker executes it)."""
    from prefect.deployments import run_deployment

    run = run_deployment(deployment, parameters=parameters, timeout=None, as_subflow=True)
    if run.state is None or not run.state.is_completed():
        message = run.state.message if run.state else "no final state"
        return {"ok": False, "message": f"flow run {run.name} ended {run.state_name}: {message}"}
    return {"ok": True, "result": {"store": parameters["store"], "flow_run": str(run.id)}}


def _batch_run_name() -> str:
    return f"batch-{Path(str(flow_run.parameters['inbox']).rstrip('/')).name}"


@flow(name="inpaint3d-batch", flow_run_name=_batch_run_name, validate_parameters=True)
def inpaint_batch(
    inbox: str,
    outbox: str,
    job: dict[str, Any] | None = None,
    pipeline: list[str] | None = None,
    dispatch: Literal["inline", "deployment"] = BATCH_DEFAULTS.dispatch,
    deployment: str = BATCH_DEFAULTS.deployment,
    staging_dir: str | None = None,
    retries: int = BATCH_DEFAULTS.retries,
    retry_delay_s: float = BATCH_DEFAULTS.retry_delay_s,
) -> dict[str, Any]:
    """Process every capture in `inbox` that is not done yet; stores and bookkeeping go to `outbox`.

    job: defaults for every capture's job (a capture's own job file overrides them).
    dispatch: `inline` runs captures here one by one; `deployment` sends each to `deployment`.
    staging_dir: where a worker copies captures of a remote inbox before ingest (default: temp dir).
    """
    logger = get_run_logger()
    box = Outbox(outbox)
    completed: list[str] = []
    skipped: list[str] = []
    failed: dict[str, str] = {}
    pending = []
    for capture in find_captures(inbox):
        try:
            values = merge_job_values(job, load_job_file(capture.job_file) if capture.job_file else None)
        except InputError as exc:
            failed[capture.name] = str(exc)
            box.record_failure(capture.name, str(exc))
            continue
        digest = job_digest(values, pipeline, capture.url)
        if box.is_done(capture.name, digest):
            skipped.append(capture.name)
            continue
        pending.append((capture, values, digest))

    def params(capture: InboxCapture, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "capture": capture.url,
            "store": box.store(capture.name),
            "job": {"name": capture.name, **values},
            "pipeline": pipeline,
            "staging_dir": staging_dir,
            "retries": retries,
            "retry_delay_s": retry_delay_s,
        }

    if dispatch == "inline":
        outcomes = {}
        for capture, values, _ in pending:
            state = inpaint_capture(**params(capture, values), return_state=True)
            outcomes[capture.name] = (
                {"ok": True, "result": state.result()}
                if state.is_completed()
                else {"ok": False, "message": _failure_message(state)}
            )
    else:
        futures = {
            capture.name: dispatch_capture.submit(capture.name, deployment, params(capture, values))
            for capture, values, _ in pending
        }
        outcomes = {name: future.result() for name, future in futures.items()}

    for capture, _, digest in pending:
        outcome = outcomes[capture.name]
        if outcome["ok"]:
            box.record_success(capture.name, digest, outcome["result"])
            completed.append(capture.name)
        else:
            box.record_failure(capture.name, outcome["message"])
            failed[capture.name] = outcome["message"]
            logger.warning("capture %s failed: %s", capture.name, outcome["message"])

    rows = [{"capture": n, "outcome": "completed", "detail": box.store(n)} for n in completed]
    rows += [{"capture": n, "outcome": "already done", "detail": box.store(n)} for n in skipped]
    rows += [{"capture": n, "outcome": "failed", "detail": msg} for n, msg in failed.items()]
    if rows:
        create_table_artifact(rows, key=f"batch-{artifact_slug(Path(inbox).name)}", description=f"Batch over {inbox}")
    return {"completed": completed, "skipped": skipped, "failed": failed}

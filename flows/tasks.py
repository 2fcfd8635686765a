"""Prefect tasks around the stages: one task per stage run, keyed by the stage's store fingerprint.

Why the fingerprint is the cache key: the store already decides whether a stage result is
current (hash of config, schema and upstream fingerprints). Keying Prefect's cache on the same
hash, and refusing Prefect's cache whenever the store does not actually hold that result
(`refresh_cache`, decided by the flow), keeps the two from ever disagreeing: a deleted or
half-written store is recomputed even if Prefect remembers an old success.

Tasks take and return small JSON values (store URL, config dict, fingerprint, summary), never
arrays. I/O-bound stages retry with exponential backoff on transient faults but never on an
`InputError` (bad input must fail fast with its message). The GPU stage holds a one-slot global
concurrency limit named after the GPU the process is pinned to, so two runs never share a GPU.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

from prefect import Task, get_run_logger, task
from prefect.client.schemas.objects import TaskRun
from prefect.concurrency.sync import concurrency
from prefect.context import TaskRunContext
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.states import State
from prefect.tasks import exponential_backoff

from flows.job import resolve_stage
from flows.settings import gpu_limit_name
from inpaint3d_core.errors import InputError
from inpaint3d_core.scene import INPAINT
from inpaint3d_core.store import SceneStore, StoreError

GPU_STAGES = frozenset({INPAINT})


def stage_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Prefect cache key of a stage run: the stage's fingerprint in this particular store."""
    store_id = hashlib.sha256(parameters["store_url"].encode()).hexdigest()[:12]
    return f"inpaint3d-{parameters['stage_name']}-{parameters['fingerprint']}-{store_id}"


def retry_unless_input_error(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry transient faults (I/O, flaky filesystems), never bad input: rerunning cannot fix it."""
    try:
        state.result()
    except InputError:
        return False
    except Exception:
        return True
    return False


def ensure_gpu_limit(name: str) -> None:
    """Create the one-slot limit for this GPU if nobody has (an operator may have set it already)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):  # another run created it meanwhile
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


@contextlib.contextmanager
def gpu_slot() -> Iterator[str]:
    """Hold this process's GPU slot for the duration of the block (waits while another run has it)."""
    name = gpu_limit_name()
    ensure_gpu_limit(name)
    with concurrency(name, occupy=1, strict=True):
        yield name


def run_stage_in_store(
    stage_ref: str, stage_name: str, store_url: str, config: dict[str, Any], fingerprint: str, force: bool = False
) -> dict[str, Any]:
    """Run one stage against the store (the body of every stage task); returns its small summary."""
    stage = resolve_stage(stage_ref)
    store = SceneStore(store_url)
    cfg = stage.Config.model_validate(config)
    logger = get_run_logger()
    gpu = contextlib.nullcontext(None) if stage_name not in GPU_STAGES else gpu_slot()
    with gpu as slot:
        if slot:
            logger.info("stage %s holds concurrency slot %s", stage_name, slot)
        result = stage.run(store, cfg, force=force)
    if result.fingerprint != fingerprint:
        raise StoreError(
            f"stage '{stage_name}' in {store_url} ran with fingerprint {result.fingerprint}, expected {fingerprint}: "
            "another process changed the store during this run; run again once it has finished"
        )
    logger.info(
        "stage %s %s", stage_name, "reused from the store" if result.skipped else f"ran in {result.seconds:.1f} s"
    )
    return {
        "stage": result.stage,
        "store_url": result.store_url,
        "fingerprint": result.fingerprint,
        "skipped": result.skipped,
        "seconds": result.seconds,
        "summary": result.summary,
        "gpu_slot": slot,
    }


def stage_task(stage_name: str, retries: int, retry_delay_s: float) -> Task:
    """The Prefect task for one stage: its name, tags, cache key, retries and result persistence."""
    is_gpu = stage_name in GPU_STAGES
    return task(
        run_stage_in_store,
        name=stage_name,
        task_run_name=stage_name,
        tags=["inpaint3d", f"stage-{stage_name}", *(["gpu"] if is_gpu else [])],
        cache_key_fn=stage_cache_key,
        persist_result=True,
        result_serializer="json",
        retries=0 if is_gpu else retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=retry_delay_s) if retry_delay_s > 0 else 0,
        retry_condition_fn=retry_unless_input_error,
    )

"""Prefect defaults for running inpaint3d flows on one machine with no server configured.

Why: with no `PREFECT_API_URL` every process starts Prefect's temporary local server. Out of the
box that server phones home (an error in the log on an offline machine), may give up starting
on a busy 2-core box (20 s timeout) and every flow call waits about a second for its heartbeat
thread. These are *defaults*: a value the user set in the environment or profile always wins.

Heartbeats are left alone for deployment runs (workers use them to detect crashed runs); only
the local entry points (`inpaint3d run`/`demo`, tests) wrap their flow calls in
`local_prefect_settings()`. While it is active, Prefect's run loggers print a user's mistake
(an `InputError`) as its one-line message, without the traceback: the CLI ends with that line
and exit code 2, and a wall of engine frames before it only hides it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from inpaint3d_core.errors import InputError

RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "prefect.flow_engine", "prefect.task_engine")


class InputErrorWithoutTraceback(logging.Filter):
    """Drop the traceback from Prefect's log records about an InputError (the message stays)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, InputError):
            record.exc_info, record.exc_text = None, None
        return True


@contextlib.contextmanager
def input_errors_without_traceback() -> Iterator[None]:
    log_filter = InputErrorWithoutTraceback()
    loggers = [logging.getLogger(name) for name in RUN_LOGGERS]
    for logger in loggers:
        logger.addFilter(log_filter)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(log_filter)


GPU_LIMIT_PREFIX = "gpu-"


def drop_empty_api_url(environ: dict[str, str] | None = None) -> None:
    """An empty `PREFECT_API_URL` is not "no server": Prefect then fails every API call and floods
    stderr. Call this before Prefect is imported so an empty value means the temporary server."""
    env = os.environ if environ is None else environ
    if env.get("PREFECT_API_URL", None) == "":
        del env["PREFECT_API_URL"]


@contextlib.contextmanager
def local_prefect_settings() -> Iterator[None]:
    """Defaults for flows run from this process (the temporary server inherits them too)."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    with (
        temporary_settings(
            set_defaults={
                PREFECT_SERVER_ANALYTICS_ENABLED: False,
                PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 90,
                PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            }
        ),
        input_errors_without_traceback(),
    ):
        yield


def gpu_device() -> str:
    """The GPU this process is pinned to: the first entry of `CUDA_VISIBLE_DEVICES` (what a worker
    started for one GPU sets), or "0" when unpinned (torch then uses device 0 as well)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    return visible or "0"


def gpu_limit_name() -> str:
    """Name of the global concurrency limit (one slot) that guards this process's GPU."""
    return f"{GPU_LIMIT_PREFIX}{gpu_device()}"

"""No process outlives `inpaint3d run`: a watchdog stops Prefect's temporary server if we die.

Why: with no `PREFECT_API_URL`, Prefect starts its temporary API server (uvicorn, ~200 MB) as a
child process and stops it from an `atexit` hook. A `kill -9` (or the OOM killer) skips atexit,
and the server then runs on forever, reparented to init. Prefect offers no parent-death option,
so we start its server ourselves (the same singleton every Prefect client in this process then
uses) and start beside it a tiny watchdog process holding the read end of a pipe whose write end
only this process has. The kernel closes that pipe when this process dies, however it dies; the
watchdog sees end-of-file and terminates the server. On a normal exit Prefect's own hook has
already stopped the server and the watchdog just exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def guard_temporary_server() -> int | None:
    """Start Prefect's temporary server when no API URL is configured and tie its life to ours.

    Returns the server's pid (None when an API server is configured, so nothing is started)."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    server = SubprocessASGIServer()
    server.start()
    pid = server.server_process.pid
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "flows.server_guard", str(pid)],
        stdin=subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C in the terminal is ours to handle, not the watchdog's
    )
    _watchdogs.append(watchdog)  # keeps the pipe's write end open as long as this process lives
    return pid


_watchdogs: list[subprocess.Popen] = []


def _stop(pid: int, grace_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `grace_s` if the server has not gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def _watch(pid: int) -> None:
    """Block until the parent's end of the pipe closes (the parent exited or was killed)."""
    while sys.stdin.buffer.read(1):
        pass
    _stop(pid)


if __name__ == "__main__":
    _watch(int(sys.argv[1]))

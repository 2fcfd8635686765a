"""Against a real `prefect server` on loopback: deploy from prefect.yaml, trigger the scheduled-batch
deployment, and let workers execute it: one control worker for the batch, one worker per "GPU"
(pinned with CUDA_VISIBLE_DEVICES, `--limit 1`) for the captures it dispatches. Checks that both
captures complete, concurrently, each on its own device. The server is stopped at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from fake_stages import PIPELINE_REFS, make_capture

from inpaint3d_core.store import SceneStore

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(os.sys.executable).parent / "prefect")
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def prefect_server(tmp_path):
    """A real Prefect server on a free loopback port with its own PREFECT_HOME; yields client env."""
    port = _free_port()
    home = tmp_path / "prefect-home"
    home.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING")
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed in teardown
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=base,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            assert time.time() < deadline, "prefect server did not become healthy in 60 s"
            time.sleep(0.5)
        yield {**base, "PREFECT_API_URL": api, "PYTHONPATH": f"{REPO}:{Path(__file__).parent}"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _prefect(env, *args, timeout=90):
    done = subprocess.run([PREFECT, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _worker(env, log: Path, queue: str, device: str | None = None, run_once: bool = False) -> subprocess.Popen:
    """A process worker on one queue of the `inpaint3d` pool; a GPU worker is pinned to `device`."""
    worker_env = {**env, "PREFECT_WORKER_QUERY_SECONDS": "1"}
    if device is not None:
        worker_env["CUDA_VISIBLE_DEVICES"] = device
    cmd = [PREFECT, "worker", "start", "--pool", "inpaint3d", "--work-queue", queue, "--limit", "1"]
    return subprocess.Popen(
        [*cmd, *(["--run-once"] if run_once else [])],
        env=worker_env,
        cwd=REPO,
        stdout=open(log, "wb"),  # noqa: SIM115 - the child owns it
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def _client(env):
    """A client of the test's server (this process otherwise talks to the test harness)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}), get_client(sync_client=True) as client:
        yield client


def _flow_runs(env, deployment: str | None = None, state: str | None = None) -> list:
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateName,
    )

    runs = FlowRunFilter(state=FlowRunFilterState(name=FlowRunFilterStateName(any_=[state]))) if state else None
    deployments = DeploymentFilter(name=DeploymentFilterName(any_=[deployment])) if deployment else None
    with _client(env) as client:
        return client.read_flow_runs(flow_run_filter=runs, deployment_filter=deployments)


def test_deploy_trigger_and_scale_out_one_worker_per_gpu(prefect_server, tmp_path):
    env = prefect_server
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    for name in ("cap_one", "cap_two"):
        make_capture(inbox / name, 2)
        (inbox / name / "job.yaml").write_text(f"inpaint: {{sleep_s: 1.0, rendezvous_dir: '{tmp_path / 'meet'}'}}\n")

    from prefect.client.schemas.actions import WorkPoolCreate

    with _client(env) as client:
        client.create_work_pool(WorkPoolCreate(name="inpaint3d", type="process"))
    _prefect(env, "--no-prompt", "deploy", "--all")
    params = {"inbox": str(inbox), "outbox": str(outbox), "pipeline": PIPELINE_REFS, "retry_delay_s": 0.0}
    with _client(env) as client:
        deployment = client.read_deployment_by_name("inpaint3d-batch/nightly-batch")
        client.create_flow_run_from_deployment(deployment.id, parameters=params)

    # One control worker executes the batch once; one long-lived worker per "GPU" takes captures.
    control = _worker(env, tmp_path / "control.log", "control", run_once=True)
    gpu_workers = [_worker(env, tmp_path / f"gpu{d}.log", "gpu", device=d) for d in ("0", "1")]
    try:
        control.wait(timeout=120)
        assert control.returncode == 0, (tmp_path / "control.log").read_text()[-3000:]
    finally:
        for proc in [control, *gpu_workers]:
            _stop(proc)

    states = sorted(f"{run.name} {run.state_name}" for run in _flow_runs(env) if run.state_name != "Scheduled")
    assert states == [f"batch-{inbox.name} Completed", "cap_one Completed", "cap_two Completed"]
    spans, devices = [], set()
    for name in ("cap_one", "cap_two"):
        assert (outbox / f"{name}.done.json").exists()
        summary = SceneStore(outbox / f"{name}.zarr").record("inpaint").summary
        spans.append((summary["started"], summary["finished"]))
        devices.add(summary["device"])
    assert devices == {"0", "1"}  # each capture's run saw its own worker's GPU
    (first, second) = sorted(spans)
    assert second[0] < first[1], f"the two captures did not run concurrently: {spans}"

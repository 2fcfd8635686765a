"""Prefect test setup: isolated PREFECT_HOME, quiet offline settings, one harness per session.

The environment is set at import time because Prefect reads its settings when it is imported.
Tests that run flows use the `prefect_harness` fixture (not autouse: CLI tests of the stage
commands in this folder need no Prefect server).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

FLOW_TESTS = Path(__file__).resolve().parent
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="inpaint3d-prefect-home-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "90"
os.environ.pop("PREFECT_API_URL", None)
if str(FLOW_TESTS) not in sys.path:
    sys.path.insert(0, str(FLOW_TESTS))  # makes `fake_stages` importable by reference


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect server and database for the whole session, heartbeats off."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.settings import local_prefect_settings

    with prefect_test_harness(server_startup_timeout=None), local_prefect_settings():
        yield


@pytest.fixture
def fake_capture(tmp_path):
    from fake_stages import make_capture

    return make_capture(tmp_path / "capture_a", 3)

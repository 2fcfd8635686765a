"""The fault suite (issue 17): each way the tool lost, damaged or misreported a user's data, or
answered a user's mistake with a traceback, as a test on tiny captures built in code (CPU, fast).

Prefect settings are set at import, before anything imports Prefect: an isolated PREFECT_HOME and
the offline, patient defaults of tests/flows.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

FAULTS = Path(__file__).resolve().parent
REPO = FAULTS.parents[1]
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="inpaint3d-faults-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "90"
if str(FAULTS) not in sys.path:
    sys.path.insert(0, str(FAULTS))  # fault_helpers and the stand-in stages of the subprocess tests

from fault_helpers import write_photos  # noqa: E402


@pytest.fixture
def photo_capture(tmp_path) -> Path:
    """A user's capture: five photos and their own `masks/` folder (what `--store CAPTURE` deleted)."""
    capture = write_photos(tmp_path / "capture", [f"IMG_{i}" for i in range(5)])
    masks = capture / "masks"
    masks.mkdir()
    for i in range(5):
        (masks / f"IMG_{i}.png").write_bytes((capture / f"IMG_{i}.png").read_bytes())
    return capture


@pytest.fixture
def cli(monkeypatch, capsys):
    """`cli(*args)` runs the `inpaint3d` entry point in-process -> (exit code, stdout, stderr)."""
    from flows.cli import main

    def call(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["inpaint3d", *map(str, args)])
        with pytest.raises(SystemExit) as exit_info:
            main()
            raise SystemExit(0)
        out = capsys.readouterr()
        return exit_info.value.code, out.out, out.err

    return call

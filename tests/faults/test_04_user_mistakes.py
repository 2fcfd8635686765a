"""Case 4: user mistakes that exited 1 with long tracebacks, and `run` validating the job only
after Prefect had started (~20 s, Prefect's traceback before the error). Each is now one line,
exit code 2, and `run` refuses before Prefect starts."""

from __future__ import annotations

import errno
import logging
import sys

import pytest
from fault_helpers import one_line_error
from fsspec.implementations.local import LocalFileSystem

import flows.commands.run_cmd as run_cmd
from flows.settings import RUN_LOGGERS, InputErrorWithoutTraceback, input_errors_without_traceback
from inpaint3d_core.errors import InputError


@pytest.fixture
def no_prefect(monkeypatch):
    """Fail the test if `run` gets as far as starting Prefect."""

    def refuse():
        raise AssertionError("Prefect was started before the job was validated")

    monkeypatch.setattr(run_cmd, "local_prefect_settings", refuse)


def test_guidance_scale_below_the_priors_bound_is_refused_before_prefect(cli, photo_capture, tmp_path, no_prefect):
    """PriorConfig owns the bound (>= 1); both commands check the option against it and name it."""
    code, _, err = cli("run", photo_capture, "--store", tmp_path / "s.zarr", "--guidance-scale", "0.5")
    message = one_line_error(err)
    assert code == 2 and "--guidance-scale" in message and "greater than or equal to 1" in message
    code, _, err = cli("inpaint", tmp_path / "s.zarr", "--guidance-scale", "0.5")
    assert code == 2 and "--guidance-scale" in one_line_error(err)


def test_store_path_that_is_a_regular_file(cli, photo_capture, tmp_path, no_prefect):
    regular = tmp_path / "scene.zarr"
    regular.write_text("not a folder")
    for command in (("run", photo_capture), ("ingest", photo_capture)):
        code, _, err = cli(*command, "--store", regular)
        assert code == 2 and "regular file" in one_line_error(err)
    assert regular.read_text() == "not a folder"


def test_store_on_a_read_only_location(cli, photo_capture, tmp_path, monkeypatch, no_prefect):
    """A read-only mount, simulated (tests run as root, where chmod does not stop writes)."""

    def read_only(self, path, exist_ok=False):
        raise OSError(errno.EROFS, "Read-only file system", path)

    monkeypatch.setattr(LocalFileSystem, "makedirs", read_only)
    for command in (("run", photo_capture), ("ingest", photo_capture)):
        code, _, err = cli(*command, "--store", tmp_path / "ro" / "s.zarr")
        assert code == 2 and "cannot be written (Read-only file system)" in one_line_error(err)


def test_missing_capture_and_unknown_stage_option_before_prefect(cli, tmp_path, no_prefect):
    code, _, err = cli("run", tmp_path / "nowhere", "--store", tmp_path / "s.zarr")
    assert code == 2 and "nowhere" in one_line_error(err)
    code, _, err = cli("run", tmp_path, "--store", tmp_path / "s.zarr", "--set", "inpaint.stepz=3")
    assert code == 2 and "inpaint.stepz" in one_line_error(err)


def test_random_safetensors_as_sam_checkpoint(cli, synthetic_store, tmp_path):
    junk = tmp_path / "sam.safetensors"
    junk.write_bytes(bytes(range(256)) * 8)
    code, _, err = cli("masks", synthetic_store.url, "--sam-checkpoint", junk, "--point", "view_000:20,15")
    assert code == 2
    line = one_line_error(err)
    assert str(junk) in line and "official checkpoint" in line


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        return logging.getLogger("prefect.task_runs").makeRecord(
            "prefect.task_runs", logging.ERROR, __file__, 1, "Task run failed: %r", (exc,), sys.exc_info()
        )


def test_prefect_logs_an_input_error_without_its_traceback():
    """Inside the flow a stage's InputError is logged by Prefect's run loggers: message, no frames."""
    formatter = logging.Formatter("%(message)s")
    with input_errors_without_traceback():
        for name in RUN_LOGGERS:
            assert any(isinstance(f, InputErrorWithoutTraceback) for f in logging.getLogger(name).filters)
        mistake, bug = _record(InputError("view IMG_3: mask missing")), _record(RuntimeError("a real bug"))
        logger = logging.getLogger("prefect.task_runs")
        assert logger.filter(mistake) and logger.filter(bug)
    assert formatter.format(mistake) == "Task run failed: InputError('view IMG_3: mask missing')"
    assert "Traceback" in formatter.format(bug)  # a real bug keeps its traceback
    assert not logging.getLogger("prefect.task_runs").filters

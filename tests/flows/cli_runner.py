"""Calls the `inpaint3d` entry point in-process and returns (exit code, stdout, stderr)."""

from __future__ import annotations

import sys

import pytest

from flows.cli import main


def call_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["inpaint3d", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
        raise SystemExit(0)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err

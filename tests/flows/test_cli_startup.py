"""The CLI starts at once: loading it (what `--help` and every argument error pay) imports none of
the heavy libraries; each command imports what it needs when it runs. Checked by module names in a
fresh interpreter, not by a time, so machine load cannot flip it."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "diffusers", "prefect", "cv2", "zarr", "torchmetrics", "matplotlib", "pycolmap", "scipy")


def _modules_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_loading_the_cli_and_printing_help_imports_no_heavy_library():
    code = (
        "from flows.cli import app\n"
        "import typer.testing\n"
        "commands = ('inpaint', 'masks', 'run', 'ingest', 'poses', 'render', 'evaluate', 'batch', 'report')\n"
        "for args in ([], *([command, '--help'] for command in commands)):\n"
        "    result = typer.testing.CliRunner().invoke(app, [*args, '--help'] if not args else args)\n"
        "    assert result.exit_code == 0, result.output\n"
    )
    loaded = _modules_after(code)
    assert not [m for m in HEAVY if m in loaded]


def test_the_ingest_and_poses_stages_import_no_torch():
    """Their commands start in about a second (a cached `ingest` took 5.2-6.1 s at load 9 with torch)."""
    loaded = _modules_after("import stages.ingest, stages.poses")
    assert "torch" not in loaded

"""Makes `benchmark_scripts` importable by the benchmark tests (the folder is not a package)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

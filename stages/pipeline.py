"""The pipeline order, explicit: each entry is a stage module with SPEC, Config and run()."""

from __future__ import annotations

PIPELINE: tuple = ()

"""The pipeline order, explicit: each entry is a stage module with SPEC, Config and run()."""

from __future__ import annotations

from stages import evaluate, ingest, inpaint, masks, poses, render

PIPELINE: tuple = (ingest, poses, masks, inpaint, render, evaluate)

"""How a batch run dispatches and retries its captures: the one place these settings and their
defaults live. `flows.batch_flow.inpaint_batch` (the `nightly-batch` deployment) takes its
parameter defaults from here and `inpaint3d batch` its options, so the two cannot drift apart.
Prefect-free, so the CLI reads it without importing Prefect."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class BatchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dispatch: Literal["inline", "deployment"] = Field(
        "inline",
        description="inline (one capture after the other in this process) or deployment (each through --deployment).",
    )
    deployment: str = Field(
        "inpaint3d-capture/capture", description="Single-capture deployment used with --dispatch deployment."
    )
    retries: int = Field(2, ge=0, description="Retries of a failed stage within one capture.")
    retry_delay_s: float = Field(10.0, ge=0.0, description="Seconds before a retry.")


BATCH_DEFAULTS = BatchOptions()

"""Resumable checkpoints in the stage's scratch group (`ctx.scratch()`), as safetensors bytes.

Two slots are written alternately and the group's `latest` attribute is switched only after a
slot is complete, so a run killed while writing a checkpoint still resumes from the previous
one. A checkpoint holds the field, Adam's state, the sampler's state (occupancy grid), the RNG
states (so a resumed run draws the same rays an uninterrupted one would), counters, and the
loss curves so far. Larger one-off artifacts of the run (warm-up field, depth targets, prior
weights) are kept as named blobs beside the slots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import zarr
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from inpaint3d_core.store import read_bytes, write_bytes


@dataclass
class Checkpoint:
    step: int
    tensors: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)
    losses: dict[str, np.ndarray] = field(default_factory=dict)


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Adam-style state flattened to named tensors, plus the JSON-able param groups."""
    state = optimizer.state_dict()
    tensors = {
        f"opt.{index}.{key}": torch.as_tensor(value).detach().cpu().contiguous()
        for index, entries in state["state"].items()
        for key, value in entries.items()
    }
    return tensors, state["param_groups"]


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: list[dict]) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith("opt."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": groups})


class CheckpointStore:
    """Checkpoint slots and blobs inside one zarr group."""

    def __init__(self, group: zarr.Group):
        self.group = group

    def latest(self) -> Checkpoint | None:
        slot_name = dict(self.group.attrs).get("latest")
        if slot_name is None:
            return None
        slot = self.group[slot_name]
        meta = dict(slot.attrs)["meta"]
        losses_group = slot["losses"]
        losses = {name: np.asarray(losses_group[name][...]) for name in losses_group.array_keys()}
        tensors = load_safetensors(read_bytes(slot, "state"))
        return Checkpoint(step=int(meta["step"]), tensors=tensors, meta=meta, losses=losses)

    def save(self, checkpoint: Checkpoint) -> None:
        current = dict(self.group.attrs).get("latest")
        slot_name = "slot_b" if current == "slot_a" else "slot_a"
        slot = self.group.require_group(slot_name)
        write_bytes(slot, "state", save_safetensors({k: v.contiguous() for k, v in checkpoint.tensors.items()}))
        losses = slot.require_group("losses")
        for name, values in checkpoint.losses.items():
            losses.create_array(name, data=np.asarray(values, dtype=np.float32), overwrite=True)
        slot.attrs["meta"] = json.loads(json.dumps({**checkpoint.meta, "step": checkpoint.step}))
        self.group.attrs["latest"] = slot_name  # switched last: the slot is complete

    def put_blob(self, name: str, payload: bytes) -> None:
        write_bytes(self.group.require_group("blobs"), name, payload)

    def get_blob(self, name: str) -> bytes | None:
        if "blobs" not in set(self.group.group_keys()):
            return None
        blobs = self.group["blobs"]
        return read_bytes(blobs, name) if name in set(blobs.array_keys()) else None

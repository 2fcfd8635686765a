"""The editing tasks one framework serves, and what each one asks of the stages.

The paper's point is that one joint optimisation (reconstruction outside a region, SDS from a 2D
inpainting prior inside it, depth as extra supervision) covers several 3D edits. They differ
only in where the region comes from and what the prior is told:

- removal:     the region is an object's mask; the prior paints what is behind it.
- completion:  the region (a 3D sphere/box or a propagated mask) covers *part* of an object; the
               prior regenerates it from the rest of the object, which stays as captured.
- replacement: the region is filled with new content described by a prompt, which needs a
               text-conditioned prior (Stable Diffusion inpainting); the internal prior has none.
- expansion:   the region is what the capture never saw: unobserved pixels of virtual cameras
               (wider field of view, path extended outward), see `joint.expansion`.

`apply_task` fills in what a job's `inpaint.task` implies (a layer over the user's values) and
checks what the task needs before anything runs; `flows.job.resolve_job` calls it for every entry
point (CLI options, job file, batch inbox, deployment). `check_inpaint_task` repeats the checks
inside the inpaint stage so a direct stage call cannot skip them; `needs_object_masks` says when
expansion alone is asked for with no mask source, so the pipeline runs the empty-masks stage.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from inpaint3d_core.errors import InputError

Task = Literal["removal", "completion", "replacement", "expansion"]
TASKS: tuple[str, ...] = get_args(Task)

# Mask options that name a region explicitly (the masks stage's config fields).
_REGION_OPTIONS = ("sphere", "box", "reference_masks", "mask_dir", "prompts", "drawings")


def check_task_name(task: str) -> Task:
    if task not in TASKS:
        raise InputError(f"task {task!r} (--task or inpaint.task): choose one of {', '.join(TASKS)}")
    return task  # type: ignore[return-value]


def check_inpaint_task(task: Task, method: str, prior: str, prompt: str) -> None:
    """What the inpaint stage needs for `task`: a clear error naming the option to change."""
    if task == "replacement":
        if prior != "stable_diffusion":
            raise InputError(
                "replacement: the internal prior has no text input, so it cannot paint what --prompt describes; "
                "use --prior stable_diffusion with a text-conditioned inpainting model (--prior-model)"
            )
        if not prompt.strip():
            raise InputError("replacement: say what to put in the region with --prompt (e.g. --prompt 'a red vase')")
    if task in ("replacement", "expansion") and method != "joint":
        raise InputError(f"{task}: needs --method joint (got {method!r}); the baselines only remove objects")


def apply_task(values: dict[str, Any], task: str) -> dict[str, Any]:
    """Job values (`flows.job` layout) for `task`: `inpaint.task` set, defaults the task implies
    filled in (replacement -> the stable_diffusion prior), and missing essentials reported."""
    task = check_task_name(task)
    masks = dict(values.get("masks") or {})
    inpaint = dict(values.get("inpaint") or {})
    inpaint["task"] = task
    prior = dict(inpaint.get("prior") or {})
    if task == "replacement":
        prior.setdefault("kind", "stable_diffusion")
        inpaint["prior"] = prior
        check_inpaint_task(task, inpaint.get("method", "joint"), prior["kind"], str(prior.get("prompt", "")))
    elif task == "completion" and not any(masks.get(k) for k in _REGION_OPTIONS):
        raise InputError(
            "completion: give the part of the object to regenerate, e.g. --sphere X,Y,Z,R or --box-3d "
            "X,Y,Z,SX,SY,SZ over part of it (or --reference-mask / --mask-dir); the rest of the object is kept"
        )
    elif task == "expansion":
        check_inpaint_task(task, inpaint.get("method", "joint"), prior.get("kind", "internal"), "")
    return {**values, "inpaint": inpaint}


def needs_object_masks(values: dict[str, Any]) -> bool:
    """Whether a job (`flows.job` layout) needs the capture's object masks: every task but
    expansion given no mask source (and the capture's masked regions not to be inpainted)."""
    masks = values.get("masks") or {}
    inpaint = values.get("inpaint") or {}
    expansion = inpaint.get("expansion") or {}
    wants_masks = any(masks.get(k) for k in _REGION_OPTIONS) or expansion.get("object_masks") == "inpaint"
    return inpaint.get("task") != "expansion" or wants_masks

"""Segment Anything (SAM): build, load and prompt, on top of the `segment-anything` package.

Why the architecture is read from the checkpoint: the three official models (vit_b, vit_l,
vit_h) differ only in the image encoder's width, depth, heads and which blocks use global
attention, and all of that is visible in the state dict's tensor shapes. Reading it there means
one loading path serves the official checkpoints and the tiny random models the tests build,
and a checkpoint that does not match the requested model type is caught with a clear message
instead of a wall of `load_state_dict` key errors.

Weights are never downloaded here: a missing checkpoint is an `InputError` that names the file
and where Meta publishes the official ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from segment_anything import SamPredictor
from segment_anything.build_sam import _build_sam
from segment_anything.modeling import Sam

from inpaint3d_core.config_types import SamModelType
from inpaint3d_core.errors import InputError

SAM_CHECKPOINTS_URL = "https://github.com/facebookresearch/segment-anything#model-checkpoints"

# SAM's image encoder sees 1024 px images in 16 px patches (64x64 tokens) and uses 14x14 windows
# in its non-global blocks: the relative-position tables have 2*size-1 rows accordingly.
_GLOBAL_REL_POS_ROWS = 2 * 64 - 1
_BLOCK_REL_POS = re.compile(r"^image_encoder\.blocks\.(\d+)\.attn\.rel_pos_h$")


@dataclass(frozen=True)
class SamArchitecture:
    """The image-encoder settings that distinguish one SAM variant from another."""

    embed_dim: int
    depth: int
    num_heads: int
    global_attn_indexes: tuple[int, ...]


OFFICIAL_ARCHITECTURES: dict[str, SamArchitecture] = {
    "vit_b": SamArchitecture(768, 12, 12, (2, 5, 8, 11)),
    "vit_l": SamArchitecture(1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": SamArchitecture(1280, 32, 16, (7, 15, 23, 31)),
}


def build_sam(architecture: SamArchitecture) -> Sam:
    """A randomly initialised SAM with the given encoder (segment-anything's own builder)."""
    return _build_sam(
        encoder_embed_dim=architecture.embed_dim,
        encoder_depth=architecture.depth,
        encoder_num_heads=architecture.num_heads,
        encoder_global_attn_indexes=list(architecture.global_attn_indexes),
        checkpoint=None,
    )


def architecture_from_state_dict(state: dict[str, torch.Tensor]) -> SamArchitecture:
    """Infer the encoder settings from tensor shapes (see module docstring)."""
    patch = state.get("image_encoder.patch_embed.proj.weight")
    if patch is None:
        raise ValueError("not a SAM state dict: no image_encoder.patch_embed.proj.weight")
    embed_dim = int(patch.shape[0])
    rel_pos = {int(m.group(1)): state[k] for k in state if (m := _BLOCK_REL_POS.match(k))}
    if not rel_pos:
        raise ValueError("not a SAM state dict: no image encoder blocks with relative positions")
    depth = max(rel_pos) + 1
    head_dim = int(rel_pos[0].shape[1])
    global_idx = tuple(sorted(i for i, t in rel_pos.items() if t.shape[0] == _GLOBAL_REL_POS_ROWS))
    return SamArchitecture(embed_dim, depth, embed_dim // head_dim, global_idx)


def save_sam(model: Sam, path: str | Path) -> Path:
    """Save a state dict in the official format (`.pth`), or as safetensors for a `.safetensors` path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save(state, path)
    return path


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip/safetensors header errors: not a plain tensor checkpoint
        raise InputError(
            f"SAM checkpoint {path} could not be read as a weights-only state dict ({exc}); "
            f"use an official checkpoint from {SAM_CHECKPOINTS_URL}"
        ) from exc


def load_sam(checkpoint: str | Path, model_type: SamModelType = "auto", device: str | None = None) -> Sam:
    """Load SAM from a local checkpoint (`.pth` with `weights_only=True`, or `.safetensors`).

    model_type: "auto" accepts any architecture the checkpoint holds; a named type must match it.
    """
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise InputError(
            f"SAM checkpoint not found: {path}. Download an official one (sam_vit_h_4b8939.pth, "
            f"sam_vit_l_0b3195.pth or sam_vit_b_01ec64.pth) from {SAM_CHECKPOINTS_URL} and pass its path "
            "with --sam-checkpoint"
        )
    state = _read_state_dict(path)
    try:
        architecture = architecture_from_state_dict(state)
    except ValueError as exc:
        raise InputError(f"SAM checkpoint {path}: {exc}") from exc
    if model_type != "auto" and architecture != OFFICIAL_ARCHITECTURES[model_type]:
        named = [k for k, v in OFFICIAL_ARCHITECTURES.items() if v == architecture]
        raise InputError(
            f"SAM checkpoint {path} holds a {named[0] if named else 'non-standard'} model "
            f"({architecture}), not {model_type}: pass the matching --sam-model or 'auto'"
        )
    model = build_sam(architecture)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:  # keys/shapes of another model that happen to pass the architecture probe
        raise InputError(
            f"SAM checkpoint {path} does not hold SAM weights ({str(exc).splitlines()[0]}); "
            f"use an official checkpoint from {SAM_CHECKPOINTS_URL}"
        ) from exc
    model.eval()
    return model.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))


@dataclass(frozen=True)
class SamPrompt:
    """Prompts for one view, in pixel coordinates of that view's image.

    points: (N, 2) xy; labels: (N,) 1 = on the object, 0 = background; box: (x0, y0, x1, y1).
    """

    points: np.ndarray
    labels: np.ndarray
    box: np.ndarray | None = None

    def __post_init__(self) -> None:
        points = np.asarray(self.points, dtype=np.float32).reshape(-1, 2)
        labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if len(points) != len(labels):
            raise InputError(f"SAM prompt: {len(points)} points but {len(labels)} labels")
        if not np.isin(labels, (0, 1)).all():
            raise InputError("SAM prompt: point labels must be 1 (object) or 0 (background)")
        box = None if self.box is None else np.asarray(self.box, dtype=np.float32).reshape(4)
        if box is not None and not (box[2] > box[0] and box[3] > box[1]):
            raise InputError(f"SAM prompt: box {box.tolist()} must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0")
        if len(points) == 0 and box is None:
            raise InputError("SAM prompt: give at least one point or a box")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "box", box)


class SamSegmenter:
    """One SAM model answering prompts on many images (the image embedding is computed once per image)."""

    def __init__(self, model: Sam):
        self.predictor = SamPredictor(model)

    @torch.inference_mode()
    def segment(self, image: np.ndarray, prompt: SamPrompt) -> tuple[np.ndarray, float]:
        """Binary mask (H, W) bool and SAM's predicted IoU for `prompt` on `image` (H, W, 3) uint8.

        With a single point SAM's prompt is ambiguous (part vs whole), so three candidates are
        asked for and the one SAM rates best is kept; with more prompts one mask is enough.
        """
        self.predictor.set_image(np.ascontiguousarray(image[..., :3]), image_format="RGB")
        multimask = len(prompt.points) == 1 and prompt.box is None
        masks, scores, _ = self.predictor.predict(
            point_coords=prompt.points if len(prompt.points) else None,
            point_labels=prompt.labels if len(prompt.points) else None,
            box=prompt.box,
            multimask_output=multimask,
        )
        best = int(np.argmax(scores))
        return masks[best].astype(bool), float(scores[best])

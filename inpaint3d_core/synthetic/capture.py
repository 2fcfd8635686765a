"""Writing a synthetic scene as a capture folder, the same shape a user's capture would have.

Layout (stems shared across folders so importers can pair files by name):
  images/view_000.png      with the object
  masks/view_000.png       0/255 object mask
  gt_images/view_000.png   ground truth without the object
  transforms.json          known poses (omitted with with_poses=False, so COLMAP must find them)
  scene.json               seed, generator config and object description
"""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio

from inpaint3d_core.io.transforms_json import TransformsFrame, write_transforms
from inpaint3d_core.synthetic.scene import SyntheticScene


def write_capture(scene: SyntheticScene, folder: str | Path, with_poses: bool = True) -> Path:
    """Write `scene` as a capture folder (created if needed) and return its path."""
    folder = Path(folder)
    for sub in ("images", "masks", "gt_images"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    frames = []
    for i, name in enumerate(scene.names):
        iio.imwrite(folder / "images" / f"{name}.png", scene.images[i])
        iio.imwrite(folder / "masks" / f"{name}.png", scene.masks[i] * 255)
        iio.imwrite(folder / "gt_images" / f"{name}.png", scene.gt_images[i])
        frames.append(
            TransformsFrame(
                file_path=f"images/{name}.png",
                K=scene.cameras.K[i],
                c2w=scene.cameras.c2w[i],
                width=int(scene.cameras.width[i]),
                height=int(scene.cameras.height[i]),
                distortion={},
            )
        )
    if with_poses:
        write_transforms(folder / "transforms.json", frames)
    description = {
        "generator": "inpaint3d_core.synthetic",
        "seed": scene.config.seed,
        "config": scene.config.model_dump(mode="json"),
        "object": scene.object.to_dict(),
    }
    (folder / "scene.json").write_text(json.dumps(description, indent=2))
    return folder

"""Loads an inpaint3d nerfstudio export with nerfstudio's own dataparser and dataset.

Run by `test_nerfstudio_dataparser.py` with an interpreter that has nerfstudio (never imported
by the project: nerfstudio pins its own torch, OpenCV and viser). Usage:
    PYTHON nerfstudio_dataparser_check.py DATASET_DIR EXPECTED.npz
EXPECTED.npz: c2w (N, 4, 4) OpenCV camera-to-world in capture coordinates, K (N, 3, 3).
Exits non-zero with the failed check's message.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from nerfstudio.data.dataparsers.nerfstudio_dataparser import NerfstudioDataParserConfig
from nerfstudio.data.datasets.base_dataset import InputDataset


def main(root: Path, expected: Path) -> None:
    want = np.load(expected)
    # as `ns-train nerfacto --data DIR` parses it (orientation, centring and scale chosen by nerfstudio)
    default = NerfstudioDataParserConfig(data=root, eval_mode="all").setup().get_dataparser_outputs("train")
    assert len(default.image_filenames) == len(want["c2w"]), "nerfstudio dropped frames"
    # without nerfstudio's re-orientation the poses are the file's: OpenGL axes (y and z flipped)
    raw = NerfstudioDataParserConfig(
        data=root, eval_mode="all", orientation_method="none", center_method="none", auto_scale_poses=False
    )
    outputs = raw.setup().get_dataparser_outputs("train")
    cams = outputs.cameras
    gl = want["c2w"].copy()
    gl[:, :3, 1:3] *= -1
    assert np.allclose(cams.camera_to_worlds.numpy(), gl[:, :3, :4], atol=1e-5), "poses differ"
    K = want["K"]
    for name, got, value in (("fx", cams.fx, K[:, 0, 0]), ("fy", cams.fy, K[:, 1, 1]), ("cx", cams.cx, K[:, 0, 2])):
        assert np.allclose(got[:, 0].numpy(), value, atol=1e-4), f"{name} differs"
    assert np.allclose(cams.cy[:, 0].numpy(), K[:, 1, 2], atol=1e-4), "cy differs"
    assert float(cams.distortion_params.abs().max()) == 0.0, "distortion should be zero (images are undistorted)"
    dataset = InputDataset(outputs)
    for i in range(len(dataset)):
        item = dataset[i]
        h, w = int(outputs.cameras.height[i]), int(outputs.cameras.width[i])
        assert tuple(item["image"].shape) == (h, w, 3), f"frame {i}: image {tuple(item['image'].shape)} vs {h}x{w}"
        assert tuple(item["mask"].shape) == (h, w, 1), f"frame {i}: mask {tuple(item['mask'].shape)}"
        assert 0 < float(item["mask"].float().mean()) <= 1, f"frame {i}: mask ignores every pixel"
    print(f"nerfstudio loaded {len(dataset)} frames")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

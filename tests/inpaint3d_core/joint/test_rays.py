"""Ray bank draws: known pixels (with colour) and hole pixels (without)."""

from __future__ import annotations

import numpy as np
import torch

from inpaint3d_core.cameras import intrinsics
from inpaint3d_core.joint.rays import RayBank, TrainingViews


def _bank() -> RayBank:
    holes = [np.zeros((4, 5), bool), np.zeros((4, 5), bool)]
    holes[0][1:3, 1:3] = True
    holes[1][0, :] = True
    images = [np.full((4, 5, 3), 10 * (i + 1), np.uint8) for i in range(2)]
    return RayBank(
        TrainingViews(images, holes, np.stack([intrinsics(5.0, 5, 4)] * 2), np.stack([np.eye(4)] * 2)), "cpu"
    )


def test_known_and_hole_draws_stay_in_their_pixels():
    bank = _bank()
    gen = torch.Generator().manual_seed(0)
    assert set(bank.sample("known", 200, gen).pixels.tolist()) <= set(bank.known.tolist())
    hole = bank.sample("hole", 200, gen)
    assert set(hole.pixels.tolist()) == set(bank.hole.tolist()) and hole.rgb is None


def test_restricted_hole_draws_come_only_from_the_regions():
    bank = _bank()
    region = np.zeros((4, 5), bool)
    region[1, 1:3] = True  # two of view 0's four hole pixels; view 1 keeps none
    bank.restrict_hole({0: region})
    drawn = bank.sample("hole", 200, torch.Generator().manual_seed(0)).pixels.tolist()
    assert set(drawn) == {6, 7} and len(bank.hole) == 9  # the full hole list still serves lookups

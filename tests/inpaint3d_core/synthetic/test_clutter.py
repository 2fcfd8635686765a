"""Clutter behind the object: on the floor, at several depths, never hiding the object."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.synthetic import SyntheticConfig, generate_scene
from inpaint3d_core.synthetic.clutter import clutter_boxes


@pytest.mark.parametrize("trajectory", ["arc", "forward"])
def test_clutter_shows_behind_the_object_and_never_hides_it(trajectory):
    plain = generate_scene(SyntheticConfig.preset("tiny", seed=2, trajectory=trajectory))
    cluttered = generate_scene(SyntheticConfig.preset("tiny", seed=2, trajectory=trajectory, n_clutter=6))
    assert len(plain.world.clutter) == 0 and len(cluttered.world.clutter) == 6
    # Behind the object from every camera: its exact mask is the same with or without clutter...
    np.testing.assert_array_equal(plain.masks, cluttered.masks)
    # ...while the background around it changes in every view.
    outside = plain.masks == 0
    changed = (plain.images != cluttered.images).any(axis=-1) & outside
    assert (changed.reshape(len(plain), -1).mean(axis=1) > 0.05).all()


def test_clutter_stands_on_the_floor_behind_the_object_at_several_depths():
    solids = clutter_boxes(9, behind_degrees=225.0, object_size=0.35, max_distance=1.7, rng=np.random.default_rng(0))
    centers = np.array([s.center for s in solids])
    np.testing.assert_allclose(centers[:, 2], [s.half_extents[2] for s in solids])  # resting on z = 0
    azimuth = np.degrees(np.arctan2(centers[:, 1], centers[:, 0])) % 360.0
    assert (np.abs(azimuth - 225.0) <= 90.0).all()
    distance = np.linalg.norm(centers[:, :2], axis=1)
    assert distance.min() > 0.35 and distance.max() < 1.7 and distance.max() - distance.min() > 0.4
    thin = [min(s.half_extents[:2]) < 0.06 for s in solids]
    tall = [s.half_extents[2] > 0.6 for s in solids]
    assert any(thin) and any(tall) and not all(thin)


def test_no_clutter_by_default():
    assert SyntheticConfig().n_clutter == 0

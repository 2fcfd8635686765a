"""3D propagation of a reference mask: synthetic scenes with exact ground truth, depth maps, SAM plumbing."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint3d_core.errors import InputError
from inpaint3d_core.masks import morphology
from inpaint3d_core.masks import propagate as propagate_module
from inpaint3d_core.masks.config import PropagationSettings
from inpaint3d_core.masks.propagate import ScenePoints, derive_prompt, observed_matrix, points_from_depths, propagate
from inpaint3d_core.scene import load_posed_views, load_sparse_points
from inpaint3d_core.segment import SamArchitecture, SamSegmenter, build_sam
from inpaint3d_core.store import SceneStore
from inpaint3d_core.synthetic import SyntheticConfig, generate_scene, write_store


def _scene(tmp_path_factory, object_type: str, seed: int = 0, n_points: int = 12000):
    scene = generate_scene(SyntheticConfig.preset("quick", seed=seed, object_type=object_type))
    store = SceneStore(tmp_path_factory.mktemp(f"{object_type}{seed}") / "scene.zarr")
    write_store(scene, store, n_points=n_points)
    views = load_posed_views(store)
    pts = load_sparse_points(store)
    points = ScenePoints(
        pts.xyz.astype(np.float64), views.cameras, observed_matrix(pts.track_views, pts.track_offsets, len(views))
    )
    return scene, views, points


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """Quick synthetic scenes (96x72, 16 views on a 120 degree arc) by (object, seed), built once each."""
    built = {}

    def get(object_type: str, seed: int = 0):
        if (object_type, seed) not in built:
            built[object_type, seed] = _scene(tmp_path_factory, object_type, seed)
        return built[object_type, seed]

    return get


@pytest.fixture(scope="module")
def sphere_scene(scenes):
    return scenes("sphere")


@pytest.fixture(scope="module")
def box_scene(scenes):
    return scenes("box")


def _ious(masks, views):
    return np.array([morphology.iou(m, views.gt_mask(i)) for i, m in enumerate(masks)])


@pytest.mark.parametrize("name", ["sphere_scene", "box_scene"])
def test_one_reference_view_reaches_every_view(request, name):
    _, views, points = request.getfixturevalue(name)
    result = propagate(points, {0: views.gt_mask(0)})
    ious = _ious(result.masks, views)
    assert result.source[0] == "reference" and set(result.source[1:]) == {"projection"}
    assert ious.mean() >= 0.93, ious.round(2)
    assert ious.min() >= 0.85, ious.round(2)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("object_type", ["sphere", "box"])
def test_one_reference_view_with_images_reaches_iou_085_in_every_view(scenes, object_type, seed):
    """Issue #4's bound: no SAM, one reference view, IoU >= 0.85 against the exact mask in every view.

    The views at the far end of the arc see a sliver of the object no other view sees (no SfM
    points there); snapping each projection to the image outline is what recovers it.
    """
    _, views, points = scenes(object_type, seed)
    result = propagate(points, {0: views.gt_mask(0)}, image=views.image)
    ious = _ious(result.masks, views)
    assert set(result.source[1:]) <= {"refined", "projection"} and "refined" in result.source
    assert ious.min() >= 0.85, ious.round(2)
    assert ious.mean() >= 0.93, ious.round(2)


def test_image_refinement_that_disagrees_with_the_projection_is_rejected(sphere_scene, monkeypatch):
    _, views, points = sphere_scene
    plain = propagate(points, {0: views.gt_mask(0)})
    monkeypatch.setattr(propagate_module, "grabcut_refine", lambda image, silhouette, *args: np.zeros_like(silhouette))
    result = propagate(points, {0: views.gt_mask(0)}, image=views.image)
    assert set(result.source[1:]) == {"projection"}
    assert all(np.array_equal(a, b) for a, b in zip(result.masks, plain.masks, strict=True))


def test_image_refinement_can_be_turned_off(sphere_scene):
    _, views, points = sphere_scene
    result = propagate(points, {0: views.gt_mask(0)}, PropagationSettings(image_refine="none"), image=views.image)
    assert set(result.source[1:]) == {"projection"}


def test_stray_points_around_the_object_are_not_selected(sphere_scene):
    """Mis-triangulated points float around real objects, as sparse as the object's rarely seen
    parts; outside the reference mask's cone they must not join the object."""
    scene, views, points = sphere_scene
    norm = views.normalization
    center, radius = norm.apply_points(scene.object.center[None])[0], scene.object.radius * norm.scale
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(400, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    stray = center + directions * radius * rng.uniform(1.15, 1.5, (400, 1))
    uv, _ = views.cameras.project(stray, 0)
    px = np.clip(uv.astype(int), 0, [views.views[0].width - 1, views.views[0].height - 1])
    stray = stray[morphology.dilate(views.gt_mask(0), 2)[px[:, 1], px[:, 0]] == 0][:40]
    observed = np.zeros((len(stray), len(views)), bool)
    observed[np.arange(len(stray)), rng.integers(1, len(views), len(stray))] = True
    noisy = ScenePoints(
        np.concatenate([points.xyz, stray]), points.cameras, np.concatenate([points.observed, observed])
    )
    result = propagate(noisy, {0: views.gt_mask(0)})
    assert len(stray) == 40 and not result.object_points[len(points.xyz) :].any()


def test_depth_maps_replace_sparse_points(sphere_scene):
    """Once a NeRF exists its rendered depth can stand in for SfM points (here: exact depth)."""
    scene, views, _ = sphere_scene
    depths = list(scene.depth.astype(np.float64) * views.normalization.scale)
    xyz, observed = points_from_depths(views.cameras, depths, stride=2)
    points = ScenePoints(xyz, views.cameras, observed)
    ious = _ious(propagate(points, {0: views.gt_mask(0)}, depths=depths).masks, views)
    assert ious.mean() >= 0.9 and ious.min() >= 0.8, ious.round(2)


def test_unregistered_views_get_empty_masks(sphere_scene):
    _, views, points = sphere_scene
    registered = np.ones(len(views), bool)
    registered[3] = False
    result = propagate(points, {0: views.gt_mask(0)}, registered=registered)
    assert result.source[3] == "unregistered" and result.masks[3].sum() == 0
    with pytest.raises(InputError, match="unregistered"):
        propagate(points, {3: views.gt_mask(3)}, registered=registered)


def test_a_reference_mask_that_selects_nothing_is_an_input_error(sphere_scene):
    _, views, points = sphere_scene
    tiny = np.zeros_like(views.gt_mask(0))
    tiny[0, 0] = 1
    with pytest.raises(InputError, match="selects only"):
        propagate(points, {0: tiny})


def test_sam_masks_are_kept_when_they_agree_and_rejected_when_not(sphere_scene):
    _, views, points = sphere_scene
    truth = views.gt_mask
    agreeing = propagate(points, {0: truth(0)}, segment=lambda image, prompt: (truth(5) > 0, 0.9), image=views.image)
    assert agreeing.source[5] == "sam" and np.array_equal(agreeing.masks[5], truth(5))
    wrong = np.zeros_like(truth(5), dtype=bool)
    wrong[:5, :5] = True
    rejected = propagate(points, {0: truth(0)}, segment=lambda image, prompt: (wrong, 0.9), image=views.image)
    assert 5 in rejected.flagged and rejected.masks[5][:5, :5].sum() == 0
    assert rejected.agreement[5] < PropagationSettings().sam_min_agreement


def test_derived_prompts_sit_on_visible_object_and_nearby_background(sphere_scene):
    _, views, points = sphere_scene
    view = 6
    result = propagate(points, {0: views.gt_mask(0)})
    uv, _, _ = points.project(view)
    visible = points.visible(view, 0.03)
    obj = result.object_points
    prompt = derive_prompt(result.masks[view], uv, obj & visible, ~obj & visible, PropagationSettings())
    truth = views.gt_mask(view)
    xy = prompt.points.astype(int)
    on_object = truth[xy[:, 1], xy[:, 0]] > 0
    assert prompt.labels.sum() >= 3 and on_object[prompt.labels == 1].all()
    assert (prompt.labels == 0).sum() >= 3 and not on_object[prompt.labels == 0].any()
    x0, y0, x1, y1 = prompt.box
    ys, xs = np.nonzero(truth)
    assert x0 <= xs.min() and y0 <= ys.min() and x1 >= xs.max() and y1 >= ys.max()


def test_tiny_random_sam_runs_through_propagation(tmp_path_factory):
    """Plumbing only: a random SAM's masks are meaningless, so they are mostly rejected."""
    scene = generate_scene(SyntheticConfig.preset("tiny", seed=1))
    store = SceneStore(tmp_path_factory.mktemp("tiny") / "scene.zarr")
    write_store(scene, store)
    views = load_posed_views(store)
    pts = load_sparse_points(store)
    points = ScenePoints(pts.xyz, views.cameras, observed_matrix(pts.track_views, pts.track_offsets, len(views)))
    segmenter = SamSegmenter(build_sam(SamArchitecture(32, 2, 2, (1,))))
    registered = np.arange(len(views)) < 3  # two SAM calls keep the test fast; the rest are skipped
    result = propagate(
        points, {0: views.gt_mask(0)}, registered=registered, segment=segmenter.segment, image=views.image
    )
    assert sorted(result.agreement) == [1, 2]
    assert all(s in ("sam", "sam-rejected") for s in result.source[1:3])
    assert all(m.shape == views.gt_mask(i).shape for i, m in enumerate(result.masks))

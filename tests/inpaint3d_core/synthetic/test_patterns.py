"""Structured materials (brick, stone, wood, foliage): real edges and lines, varied per seed,
opt-in so the noise-textured scenes keep their pixels; the table the object can rest on."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inpaint3d_core.synthetic import SyntheticConfig, generate_scene
from inpaint3d_core.synthetic.patterns import BRICK, FOLIAGE, STONE, WOOD, PatternMaterials, PatternShader
from inpaint3d_core.synthetic.world import SyntheticWorld

SIZE = 256  # pixels of the test patch; it spans 1 x 1 scene units of a wall facing +x


def _wall_patch(kind: int, seed: int) -> tuple[np.ndarray, PatternMaterials]:
    rng = np.random.default_rng(seed)
    materials = PatternMaterials.random(rng, np.array([kind]))
    shader = PatternShader(rng, materials)
    ys, zs = np.meshgrid(np.linspace(0.0, 1.0, SIZE), np.linspace(1.0, 0.0, SIZE))
    points = np.stack([np.zeros(ys.size), ys.ravel(), zs.ravel() + 0.5], axis=1)
    normals = np.tile([1.0, 0.0, 0.0], (len(points), 1))
    detail = np.full(len(points), 0.5)
    albedo = shader.albedo(points, normals, np.zeros(len(points), np.int64), detail)
    return albedo.reshape(SIZE, SIZE, 3), materials


def _line_pixels(albedo: np.ndarray, materials: PatternMaterials) -> np.ndarray:
    """Pixels closer to the mortar/gap colour than to the element colour."""
    to_line = np.linalg.norm(albedo - materials.line[0], axis=-1)
    to_element = np.linalg.norm(albedo - materials.element[0] * 0.9, axis=-1)
    return to_line < to_element


@pytest.mark.parametrize("kind", [BRICK, STONE, WOOD, FOLIAGE])
def test_patterns_have_edges_not_only_noise(kind):
    albedo, materials = _wall_patch(kind, seed=kind)
    grey = (albedo.mean(axis=-1) * 255).astype(np.uint8)
    # Flat detail noise (0.5 everywhere): any edge here comes from the pattern's structure.
    edges = cv2.Canny(grey, 30, 90) > 0
    assert 0.01 < edges.mean() < 0.6
    lines = _line_pixels(albedo, materials)
    assert 0.02 < lines.mean() < 0.5  # mortar, gaps, seams or shadow between leaves


def test_brick_courses_are_level_lines():
    albedo, materials = _wall_patch(BRICK, seed=3)
    lines = _line_pixels(albedo, materials)
    # Course joints: rows that are mortar from one side to the other; there are several.
    full_rows = lines.mean(axis=1) > 0.9
    courses = np.count_nonzero(np.diff(full_rows.astype(int)) == 1)
    expected = 1.0 / (materials.scale[0] * materials.aspect[0])  # courses per unit of height
    assert abs(courses - expected) <= 1.5
    # Vertical joints are short: no column is mortar all the way down.
    assert lines.mean(axis=0).max() < 0.9


def test_patterns_vary_per_seed():
    a, ma = _wall_patch(STONE, seed=0)
    b, mb = _wall_patch(STONE, seed=1)
    assert not np.allclose(ma.element, mb.element) and ma.scale[0] != mb.scale[0]
    assert np.abs(a - b).mean() > 0.05
    kinds = {
        tuple(SyntheticWorld(SyntheticConfig(textures="structured", seed=s)).shader.patterns.materials.kind)
        for s in range(4)
    }
    assert len(kinds) > 1


def test_structured_is_opt_in():
    noise = SyntheticWorld(SyntheticConfig(seed=2))
    structured = SyntheticWorld(SyntheticConfig(seed=2, textures="structured"))
    assert noise.shader.patterns is None
    # The noise materials and furniture do not depend on the option (their own random streams).
    np.testing.assert_array_equal(noise.shader.materials.base, structured.shader.materials.base)
    np.testing.assert_array_equal(noise.furniture[0].center, structured.furniture[0].center)
    kinds = structured.shader.patterns.materials.kind
    assert kinds[structured.object_id] == 0 and (kinds[: structured.object_id] > 0).all()


def test_object_on_a_table_with_exact_removal():
    config = SyntheticConfig(
        width=64,
        height=36,
        n_views=3,
        trajectory="forward",
        textures="structured",
        object_type="box",
        object_size=0.2,
        table_height=0.6,
        camera_height=1.1,
        seed=1,
    )
    scene = generate_scene(config)
    table = scene.world.furniture[-1]
    obj = scene.object
    assert np.isclose(table.center[2] + table.half_extents[2], 0.6)
    assert np.isclose(obj.center[2] - obj.half_extents[2], 0.6)  # resting on the table top
    outside = scene.masks == 0
    np.testing.assert_array_equal(scene.images[outside], scene.gt_images[outside])
    assert 0.02 < scene.masks.mean() < 0.3

"""Case 5 (part 1): a view with no mask file in import mode was trained unmasked (the object
stayed) with only a note. It is now an error naming the views, unless explicitly allowed."""

from __future__ import annotations

from fault_helpers import one_line_error

from inpaint3d_core.io.images import write_image


def test_missing_mask_files_are_an_error_naming_the_views_unless_allowed(
    cli, synthetic_store, synthetic_scene, tmp_path
):
    folder = tmp_path / "my_masks"
    folder.mkdir()
    for name, mask in list(zip(synthetic_scene.names, synthetic_scene.masks, strict=True))[:-2]:
        write_image(folder / f"{name}.png", mask * 255)
    missing = synthetic_scene.names[-2:]
    code, _, err = cli("masks", synthetic_store.url, "--mask-dir", folder)
    assert code == 2
    line = one_line_error(err)
    assert "2 view(s) have no mask file" in line and all(name in line for name in missing)
    assert "--allow-missing-masks" in line
    code, out, err = cli("masks", synthetic_store.url, "--mask-dir", folder, "--allow-missing-masks")
    assert code == 0, err
    assert '"missing": 2' in out

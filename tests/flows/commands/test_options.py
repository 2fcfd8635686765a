"""`--set` on a stage command: plain, stage-qualified and nested fields; another stage's field is refused."""

from __future__ import annotations

import pytest

from flows.commands.options import parse_overrides, with_overrides
from inpaint3d_core.errors import InputError


def test_with_overrides_sets_plain_qualified_and_nested_fields():
    options = {"preset": "quick", "weights": {"sds": 0.05}}
    merged = with_overrides("inpaint", options, ["steps_scale=0.5", "inpaint.seed=3", "weights.depth=0.2"])
    assert merged == {"preset": "quick", "steps_scale": 0.5, "seed": 3, "weights": {"sds": 0.05, "depth": 0.2}}
    assert options == {"preset": "quick", "weights": {"sds": 0.05}}  # the caller's values are not changed
    assert with_overrides("render", {}, ["path=[1, 2]"]) == {"path": [1, 2]}


@pytest.mark.parametrize("item, message", [("render.n_frames=3", "inpaint3d inpaint"), ("seed", "STAGE.FIELD=VALUE")])
def test_bad_set_items_are_input_errors(item, message):
    with pytest.raises(InputError, match=message):
        with_overrides("inpaint", {}, [item])


def test_parse_overrides_is_shared_with_run():
    assert parse_overrides(["masks.dilate_px=4"]) == {"masks": {"dilate_px": 4}}

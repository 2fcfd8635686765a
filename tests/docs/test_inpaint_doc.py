"""docs/inpaint.md quotes the presets' numbers; they must be the ones `joint.config.preset` uses."""

from __future__ import annotations

import re
from pathlib import Path

from inpaint3d_core.joint.config import preset

DOC = Path(__file__).resolve().parents[2] / "docs" / "inpaint.md"


def test_preset_numbers_in_the_doc_match_the_code():
    text = " ".join(DOC.read_text().split())
    for name in ("quick", "full", "thorough"):
        match = re.search(rf"`{name}` \(\w+: [^;]*; (\d+) steps, (\d+) of warm-up, (\d+) rays \+ (\d+) hole rays", text)
        assert match, f"docs/inpaint.md no longer states the {name} preset's steps and rays"
        config = preset(name)
        quoted = tuple(int(v) for v in match.groups())
        assert quoted == (config.steps, config.warmup_steps, config.rays_per_batch, config.hole_rays_per_batch)

"""The job spec: built from the pipeline's stage configs, shared fields, files, merging, errors, the
edit task resolved with the stages it runs."""

from __future__ import annotations

import pytest
from fake_stages import PIPELINE_REFS

from flows.job import build_job, job_pipeline, load_job_file, merge_job_values, resolve_job, resolve_stage
from inpaint3d_core.errors import InputError
from stages import masks, unmasked
from stages.pipeline import PIPELINE

STAGES = [resolve_stage(ref) for ref in PIPELINE_REFS]


def test_job_has_one_typed_section_per_stage_and_shares_capture_and_preset():
    job = build_job(STAGES, {"capture": "/data/cap", "store": "s.zarr", "preset": "full", "masks": {"dilate_px": 7}})
    assert job.ingest.capture == "/data/cap"  # declared by ingest's Config, so handed to it
    assert job.inpaint.preset == "full"
    assert job.masks.dilate_px == 7 and job.masks.sleep_s == 0.0
    assert job.run_name == "cap"
    assert (
        build_job(STAGES, {"capture": "c", "store": "s", "inpaint": {"preset": "x"}, "preset": "y"}).inpaint.preset
        == "x"
    )


def test_job_errors_name_the_stage_and_field():
    with pytest.raises(InputError, match=r"poses\.scale: Input should be a valid number"):
        build_job(STAGES, {"capture": "c", "store": "s", "poses": {"scale": "big"}})
    with pytest.raises(InputError, match=r"render: Extra inputs"):
        build_job(STAGES, {"capture": "c", "store": "s", "render": {}})


def test_job_files_and_merging(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text("preset: quick\nmasks: {dilate_px: 2, sleep_s: 1}\n")
    merged = merge_job_values(load_job_file(str(path)), {"preset": None, "masks": {"dilate_px": 9}})
    assert merged == {"preset": "quick", "masks": {"dilate_px": 9, "sleep_s": 1}}
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="must hold a mapping"):
        load_job_file(str(tmp_path / "list.yaml"))
    (tmp_path / "bad.yaml").write_text("masks: {dilate_px: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_job_file(str(tmp_path / "bad.yaml"))
    with pytest.raises(InputError, match="does not exist"):
        load_job_file(str(tmp_path / "missing.yaml"))


def test_pipeline_references_are_checked():
    with pytest.raises(InputError, match="cannot be imported"):
        resolve_stage("no_such_module_h7")
    with pytest.raises(InputError, match="has no `SPEC`"):
        resolve_stage("fake_stages:make_capture")


def test_the_job_resolves_its_edit_task_and_pipeline():
    base = {"capture": "c", "store": "s"}
    refs, stages, job = resolve_job({**base, "inpaint": {"task": "expansion"}})
    assert refs == [unmasked.__name__ if s is masks else s.__name__ for s in PIPELINE]  # default pipeline
    assert stages[refs.index(unmasked.__name__)] is unmasked and job.inpaint.task == "expansion"
    refs, _, job = resolve_job({**base, "inpaint": {"task": "replacement", "prior": {"prompt": "a vase"}}})
    assert refs == [s.__name__ for s in PIPELINE] and job.inpaint.prior.kind == "stable_diffusion"
    given = ["stages.ingest", "stages.poses", "stages.masks"]
    assert job_pipeline({"inpaint": {"task": "expansion"}}, given)[-1] == unmasked.__name__
    assert job_pipeline({"inpaint": {"task": "expansion"}, "masks": {"sphere": [0, 0, 0, 1]}}, given) == given
    with pytest.raises(InputError, match="replacement: say what to put in the region"):
        resolve_job({**base, "inpaint": {"task": "replacement"}})

"""The single-capture flow: every stage of the pipeline, in order, as a Prefect task.

The flow is generic over the pipeline (a list of stage module references, default
`stages.pipeline.PIPELINE`), so it never names a stage. For each stage it computes the
fingerprint the stage would have now (`expected_fingerprint`, upstream results are complete by
then), uses it as the task's cache key, and lets Prefect reuse its cache only when the store
really holds that result. Only store URLs, configs and fingerprints travel between tasks.

After the stages, the key outputs become Prefect artifacts (a stage table, a metrics table and
links to exported files such as videos and the report) so a run can be judged from the UI.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import fsspec
from prefect import flow, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run

from flows.job import merge_job_values, resolve_job
from flows.tasks import stage_task
from inpaint3d_core.stage import expected_fingerprint
from inpaint3d_core.store import SceneStore, StageNotReadyError

FLOW_NAME = "inpaint3d-capture"
# The key outputs exported after a run (format of `inpaint3d export` -> name under `export_dir`);
# formats whose exporter does not exist in this build are left out.
KEY_EXPORTS = {"video": "videos", "report": "report", "ply": "inpainted.ply", "transforms": "transforms.json"}


def capture_run_name(capture: str, job: dict[str, Any] | None = None) -> str:
    """What a capture's flow runs are called: the job's `name`, else the capture folder's name."""
    return (job or {}).get("name") or Path(capture.rstrip("/")).name or "capture"


def _flow_run_name() -> str:
    params = flow_run.parameters
    return capture_run_name(params["capture"], params.get("job"))


def artifact_slug(text: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "capture"


def _outcome(result: dict[str, Any], prefect_state: str) -> str:
    if prefect_state == "Cached":
        return "cached (prefect)"
    return "reused (store)" if result["skipped"] else "computed"


def _numeric_items(prefix: str, value: Any) -> list[tuple[str, float]]:
    """Flatten a stage summary into (key, number) pairs: the numbers worth a table row."""
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [(prefix, value)]
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _numeric_items(f"{prefix}.{k}" if prefix else str(k), v)]
    return []


def local_capture(capture: str, staging_dir: str | None) -> str:
    """A local path to the capture: itself when local, else a copy under `staging_dir`. Ingest reads
    files with ordinary image/video decoders; the copy's path is stable so fingerprints are too."""
    fs, path = fsspec.core.url_to_fs(capture)
    if "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
        return path
    target = Path(staging_dir or tempfile.gettempdir()) / "inpaint3d-captures" / Path(path.rstrip("/")).name
    target.mkdir(parents=True, exist_ok=True)
    fs.get(path.rstrip("/") + "/", str(target), recursive=True)
    return str(target)


@task(name="export-outputs", task_run_name="export-outputs")
def export_outputs(store_url: str, export_dir: str) -> dict[str, str]:
    """Write the key outputs (videos, report with metrics, point cloud, cameras) under `export_dir`."""
    from inpaint3d_core.io.export import EXPORTERS

    store = SceneStore(store_url)
    exporters = {str(fmt): exporter for fmt, exporter in EXPORTERS.items()}
    written: dict[str, str] = {}
    for fmt, name in KEY_EXPORTS.items():
        if fmt not in exporters:
            continue
        try:
            written[fmt] = str(exporters[fmt](store, Path(export_dir) / name))
        except StageNotReadyError:
            continue  # this pipeline did not produce what the exporter needs
    return written


def _link_targets(path: str) -> list[str]:
    """What to link for an export: the file itself, or the files directly inside an exported folder
    (videos/rgb.mp4, report/report.html, ...)."""
    local = Path(path)
    if "://" not in path and local.is_dir():
        return [str(p) for p in sorted(local.iterdir()) if p.is_file()]
    return [path]


def publish_artifacts(name: str, store_url: str, results: list[dict[str, Any]], exports: dict[str, str]) -> None:
    """Stage table, metrics table and links to the exported files, keyed by the run's name."""
    slug = artifact_slug(name)
    create_table_artifact(
        [
            {
                "stage": r["stage"],
                "outcome": r["outcome"],
                "seconds": round(r["seconds"], 2),
                "fingerprint": r["fingerprint"],
            }
            for r in results
        ],
        key=f"{slug}-stages",
        description=f"Stages of {name} in {store_url}",
    )
    metrics = [
        {"stage": r["stage"], "metric": key, "value": value}
        for r in results
        for key, value in _numeric_items("", r["summary"])
    ]
    if metrics:
        create_table_artifact(metrics, key=f"{slug}-metrics", description=f"Numbers reported by the stages of {name}")
    for fmt, path in exports.items():
        for target in _link_targets(path):
            create_link_artifact(
                target if "://" in target else Path(target).resolve().as_uri(),
                link_text=f"{name}: {Path(target).name}",
                key=f"{slug}-{artifact_slug(fmt)}-{artifact_slug(Path(target).stem)}",
            )
    lines = [f"# {name}", "", f"Scene store: `{store_url}`", ""]
    lines += [f"- {fmt}: `{path}`" for fmt, path in exports.items()]
    create_markdown_artifact("\n".join(lines), key=f"{slug}-outputs", description=f"Where the outputs of {name} are")


@flow(name=FLOW_NAME, flow_run_name=_flow_run_name, validate_parameters=True)
def inpaint_capture(
    capture: str,
    store: str,
    job: dict[str, Any] | None = None,
    pipeline: list[str] | None = None,
    force: list[str] | None = None,
    export_dir: str | None = None,
    staging_dir: str | None = None,
    retries: int = 2,
    retry_delay_s: float = 10.0,
) -> dict[str, Any]:
    """Run the whole pipeline for one capture into one scene store.

    capture/store: capture folder and scene store (paths or fsspec URLs).
    job: the rest of the job spec (preset, protocol, one section per stage), see `flows.job`.
    pipeline: stage module references in order; default `stages.pipeline.PIPELINE` (either way
        adjusted to the job's edit task by `flows.job.resolve_job`).
    force: stage names to recompute even when their result is current.
    export_dir: when set, the key outputs are exported there and linked as artifacts.
    staging_dir: where a capture given as a remote fsspec URL is copied first (default: temp dir).
    retries/retry_delay_s: retries of the I/O-bound stages, exponential backoff from this delay.
    """
    local = local_capture(capture, staging_dir)
    refs, stages, spec = resolve_job(merge_job_values(job, {"capture": local, "store": store}), pipeline)
    scene = SceneStore(spec.store)
    forced = set(force or ())
    results: list[dict[str, Any]] = []
    for ref, stage in zip(refs, stages, strict=True):
        name = stage.SPEC.name
        config = spec.stage_config(name)
        fingerprint = expected_fingerprint(scene, stage.SPEC, config)
        record = scene.intact_record(name)  # a damaged group must not be answered from Prefect's cache
        in_store = record is not None and record.fingerprint == fingerprint and name not in forced
        run = stage_task(name, retries, retry_delay_s).with_options(refresh_cache=not in_store)
        state = run(
            ref, name, spec.store, config.model_dump(mode="json"), fingerprint, name in forced, return_state=True
        )
        result = state.result()
        results.append({**result, "outcome": _outcome(result, state.name)})
    exports = export_outputs(spec.store, export_dir) if export_dir else {}
    publish_artifacts(spec.run_name, spec.store, results, exports)
    return {"name": spec.run_name, "store": spec.store, "stages": results, "exports": exports}

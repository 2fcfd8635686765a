"""Structure from motion through pycolmap: SIFT, matching, mapping, and triangulation with known poses.

Why a wrapper: the stages speak in arrays (images, K, c2w) and view indices; COLMAP speaks in a
database and a folder of files. This module owns the translation both ways, the choices that
depend on the capture (which matcher, which intrinsics sharing) and the pycolmap option names,
so the poses stage never touches COLMAP's API directly. GPU SIFT and matching are used when the
installed pycolmap was built with CUDA (`Device.auto`); otherwise the CPU implementations run.

Images are written as PNG into a scratch folder under names `00000.png`, ... (view order), so
odd characters in capture file names never reach COLMAP and results map back by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pycolmap
from tqdm import tqdm

from inpaint3d_core.cameras import nearest_views
from inpaint3d_core.config_types import CameraModel
from inpaint3d_core.errors import InputError
from inpaint3d_core.io.colmap_model import CameraSet, SparseCloud, reconstruction_cameras
from inpaint3d_core.io.images import write_image

Matcher = Literal["exhaustive", "sequential", "spatial"]
Mapper = Literal["incremental", "global"]

pycolmap.logging.minloglevel = 2  # errors only: COLMAP logs hundreds of lines per reconstruction


@dataclass(frozen=True)
class SfmOptions:
    """How to run COLMAP. `focal_px` (at the given images' resolution) fixes a known focal length."""

    matcher: Matcher = "exhaustive"
    mapper: Mapper = "incremental"
    camera_model: CameraModel = "SIMPLE_RADIAL"
    single_camera: bool = True
    focal_px: float | None = None
    max_features: int = 8192
    peak_threshold: float = 0.002  # SIFT; COLMAP's 0.0067 finds too few features on smooth textures
    vocab_tree: str | None = None  # enables loop detection in sequential matching
    sequential_overlap: int = 10
    # Also pair view i with i + 2^k. Those far pairs close loops and bridge gaps in a sequence,
    # but on repetitive textures (floor tiles) many are wrong and fold the reconstruction; "auto"
    # matches neighbours only and adds the far pairs only when the largest model misses more
    # than `quadratic_retry_fraction` of the views.
    sequential_quadratic: Literal["auto", "on", "off"] = "auto"
    quadratic_retry_fraction: float = 0.1
    seed: int = 0


@dataclass
class SfmResult:
    """Cameras of the registered views (CameraSet.names are the input view indices as strings)
    and the sparse points, whose tracks index the input views."""

    registered: np.ndarray  # (N,) bool over the input views
    cameras: CameraSet
    points: SparseCloud
    n_models: int


def choose_matcher(n_views: int, requested: Literal["auto"] | Matcher, exhaustive_max_views: int) -> Matcher:
    """Exhaustive matching (every pair) is the most robust but quadratic; past a few dozen views,
    sequential matching of neighbours in capture order (video frames, walk-arounds) scales."""
    if requested != "auto":
        return requested
    return "exhaustive" if n_views <= exhaustive_max_views else "sequential"


def _image_name(index: int) -> str:
    return f"{index:05d}.png"


def write_images(folder: Path, images: Sequence[np.ndarray]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, pixels in enumerate(tqdm(images, desc="images for COLMAP", unit="view", leave=False)):
        names.append(_image_name(i))
        write_image(folder / names[-1], pixels)
    return names


def _known_focal_params(model: str, focal: float, width: int, height: int) -> list[float]:
    cx, cy = width / 2.0, height / 2.0
    return {
        "SIMPLE_PINHOLE": [focal, cx, cy],
        "PINHOLE": [focal, focal, cx, cy],
        "SIMPLE_RADIAL": [focal, cx, cy, 0.0],
        "RADIAL": [focal, cx, cy, 0.0, 0.0],
        "OPENCV": [focal, focal, cx, cy, 0.0, 0.0, 0.0, 0.0],
    }[model]


def extract(database: Path, image_dir: Path, names: list[str], options: SfmOptions, model: str) -> None:
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = model
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.sift.max_num_features = options.max_features
    extraction.sift.peak_threshold = options.peak_threshold
    mode = pycolmap.CameraMode.SINGLE if options.single_camera else pycolmap.CameraMode.PER_IMAGE
    pycolmap.extract_features(
        database,
        image_dir,
        image_names=names,
        camera_mode=mode,
        reader_options=reader,
        extraction_options=extraction,
        device=pycolmap.Device.auto,
    )


def set_cameras(database: Path, params: dict[str, list[float]], prior_focal: bool) -> None:
    """Overwrite the parameters of the database's cameras (by image name) before mapping."""
    with pycolmap.Database.open(database) as db:
        cameras = {c.camera_id: c for c in db.read_all_cameras()}
        for image in db.read_all_images():
            camera = cameras[image.camera_id]
            camera.params = np.asarray(params[image.name], dtype=np.float64)
            camera.has_prior_focal_length = prior_focal
            db.update_camera(camera)


def match(database: Path, matcher: Matcher, options: SfmOptions, quadratic: bool = False) -> None:
    if matcher == "exhaustive":
        pycolmap.match_exhaustive(database, device=pycolmap.Device.auto)
    elif matcher == "sequential":
        pairing = pycolmap.SequentialPairingOptions()
        pairing.overlap = options.sequential_overlap
        pairing.quadratic_overlap = quadratic
        if options.vocab_tree:
            pairing.loop_detection = True
            pairing.vocab_tree_path = options.vocab_tree
        pycolmap.match_sequential(database, pairing_options=pairing, device=pycolmap.Device.auto)
    else:
        pycolmap.match_spatial(database, device=pycolmap.Device.auto)


def _map(database: Path, image_dir: Path, out: Path, options: SfmOptions) -> dict[int, pycolmap.Reconstruction]:
    out.mkdir(parents=True, exist_ok=True)
    if options.mapper == "global":
        pipeline = pycolmap.GlobalPipelineOptions()
        pipeline.random_seed = options.seed
        if options.focal_px is not None:
            pipeline.mapper.bundle_adjustment.refine_focal_length = False
        return pycolmap.global_mapping(database, image_dir, out, pipeline)
    pipeline = pycolmap.IncrementalPipelineOptions()
    pipeline.random_seed = options.seed
    pipeline.min_model_size = 3
    if options.focal_px is not None:
        pipeline.ba_refine_focal_length = False
        pipeline.mapper.abs_pose_refine_focal_length = False
    return pycolmap.incremental_mapping(database, image_dir, out, pipeline)


def estimate_poses(images: Sequence[np.ndarray], workdir: Path, options: SfmOptions) -> SfmResult:
    """Run COLMAP on `images` (uint8 RGB) and keep the largest reconstruction.

    Raises InputError when nothing registers (the caller decides what "enough" means).
    """
    workdir = Path(workdir)
    image_dir, database = workdir / "images", workdir / "database.db"
    names = write_images(image_dir, images)
    if options.single_camera and len({im.shape[:2] for im in images}) > 1:
        raise InputError("single shared intrinsics need all views to have the same size; use per-image intrinsics")
    extract(database, image_dir, names, options, options.camera_model)
    if options.focal_px is not None:
        params = {
            n: _known_focal_params(options.camera_model, options.focal_px, im.shape[1], im.shape[0])
            for n, im in zip(names, images, strict=True)
        }
        set_cameras(database, params, prior_focal=True)
    quadratic = options.matcher == "sequential" and options.sequential_quadratic == "on"
    match(database, options.matcher, options, quadratic)
    models = _map(database, image_dir, workdir / "sparse", options)
    if options.matcher == "sequential" and options.sequential_quadratic == "auto":
        registered = max((rec.num_reg_images() for rec in models.values()), default=0)
        if registered < (1.0 - options.quadratic_retry_fraction) * len(images):
            match(database, options.matcher, options, quadratic=True)  # adds the 2^k pairs only
            models = _map(database, image_dir, workdir / "sparse_quadratic", options)
    if not models:
        raise InputError(
            "COLMAP could not build any model from these views: they need more overlap or texture; try "
            "more views, sequential matching for a video, or a lower resolution"
        )
    best = max(models.values(), key=lambda rec: rec.num_reg_images())
    cameras, points = reconstruction_cameras(best)
    view_of = {name: i for i, name in enumerate(names)}
    order = np.array([view_of[n] for n in cameras.names], dtype=np.int64)
    cameras.names = [str(i) for i in order]
    points.track_views = order[points.track_views].astype(np.int32)
    registered = np.zeros(len(images), dtype=bool)
    registered[order] = True
    return SfmResult(registered=registered, cameras=cameras, points=points, n_models=len(models))


def pose_neighbour_pairs(c2w: np.ndarray, names: list[str], k: int) -> list[tuple[str, str]]:
    """Each camera with its k nearest others (centre distance + viewing angle), each pair once."""
    pairs = {tuple(sorted((i, int(j)))) for i, row in enumerate(nearest_views(c2w, k)) for j in row}
    return [(names[i], names[j]) for i, j in sorted(pairs)]


def match_pairs(database: Path, pairs: list[tuple[str, str]], workdir: Path) -> None:
    """Match only the listed image pairs (COLMAP's imported pairing)."""
    pairs_file = workdir / "pairs.txt"
    pairs_file.write_text("".join(f"{a} {b}\n" for a, b in pairs))
    pairing = pycolmap.ImportedPairingOptions()
    pairing.match_list_path = str(pairs_file)
    pycolmap.match_image_pairs(database, pairing_options=pairing, device=pycolmap.Device.auto)


def triangulate_known(
    images: Sequence[np.ndarray],
    K: np.ndarray,
    c2w: np.ndarray,
    workdir: Path,
    matcher: Matcher | Literal["pose_neighbours"],
    max_features: int = 8192,
    peak_threshold: float = 0.002,
    neighbours: int = 8,
) -> SparseCloud:
    """Sparse points for known pinhole cameras: SIFT + matching, then COLMAP's point triangulator
    on a reconstruction holding the given poses (nothing about the cameras is refined).

    Why: imported poses (LLFF, transforms.json) come without points, but the mask stage lifts
    prompts to 3D through them and near/far bounds come from them. With known poses the pairs
    worth matching are known too: matcher "pose_neighbours" matches each view with its
    `neighbours` nearest cameras (100 views: ~500 pairs instead of sequential's ~1000 or
    exhaustive's 4950), which is where most of the stage's time went.
    """
    workdir = Path(workdir)
    image_dir, database = workdir / "images", workdir / "database.db"
    names = write_images(image_dir, images)
    options = SfmOptions(single_camera=False, max_features=max_features, peak_threshold=peak_threshold)
    extract(database, image_dir, names, options, "PINHOLE")
    params = {n: [K[i][0, 0], K[i][1, 1], K[i][0, 2], K[i][1, 2]] for i, n in enumerate(names)}
    set_cameras(database, params, prior_focal=True)
    if matcher == "pose_neighbours":
        match_pairs(database, pose_neighbour_pairs(np.asarray(c2w), names, neighbours), workdir)
    else:
        match(database, matcher, options)
    rec = pycolmap.Reconstruction()
    with pycolmap.Database.open(database) as db:
        cameras = {c.camera_id: c for c in db.read_all_cameras()}
        for image in db.read_all_images():
            i = names.index(image.name)
            rec.add_camera_with_trivial_rig(cameras[image.camera_id])
            w2c = np.linalg.inv(c2w[i])
            pose = pycolmap.Rigid3d(pycolmap.Rotation3d(w2c[:3, :3]), w2c[:3, 3])
            rec.add_image_with_trivial_frame(
                pycolmap.Image(name=image.name, camera_id=image.camera_id, image_id=image.image_id), pose
            )
    out = workdir / "triangulated"
    out.mkdir(parents=True, exist_ok=True)
    rec = pycolmap.triangulate_points(rec, database, image_dir, out, clear_points=True)
    cameras_out, points = reconstruction_cameras(rec)
    order = np.array([names.index(n) for n in cameras_out.names], dtype=np.int64)
    points.track_views = order[points.track_views].astype(np.int32)
    return points

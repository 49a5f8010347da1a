"""Fixtures for batch tests: a small real cohort (T1 files from four sources, a DICOM series folder,
one corrupt file in the middle), a local Dask cluster started once per module, and small test models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import SimpleITK as sitk

from batch_helpers import (CORRUPT_NAME, DICOM_CASE, N_DICOM_SLICES, N_SUBJECTS, install_anomaly_test_model,
                           install_future_test_model)
from medsynth.models import ModelRegistry
from model_factory import install_model, pointwise_graph
from real_images import centre_crop, t1_cohort


@pytest.fixture(scope="session")
def real_t1s() -> dict[str, sitk.Image]:
    return t1_cohort()


@pytest.fixture(scope="session")
def cohort(real_t1s, test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Input folder: N_SUBJECTS real T1 files, one DICOM series folder and one corrupt file."""
    root = tmp_path_factory.mktemp("cohort")
    assert len(real_t1s) == N_SUBJECTS
    for name, image in real_t1s.items():
        sitk.WriteImage(image, str(root / f"{name}.nii.gz"))
    (root / CORRUPT_NAME).write_bytes(b"this is not a NIfTI file\n" * 64)
    series = root / DICOM_CASE
    series.mkdir()
    for path in sorted((test_data / "dicom_mr_series_small").glob("*.dcm"))[:N_DICOM_SLICES]:
        shutil.copy2(path, series / path.name)
    (root / "notes.txt").write_text("not an image: ignored by case discovery\n")
    return root


@pytest.fixture(scope="session")
def small_cohort(real_t1s, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three real T1 volumes cropped to their central 40³ voxels (fast enough to run many times); the
    second is one person's whole head, whose central crop holds no air."""
    root = tmp_path_factory.mktemp("small")
    for name in ("sub01-mean_head", "sub02-head_mr_skull", "sub03-stroke"):
        sitk.WriteImage(centre_crop(real_t1s[name], 40), str(root / f"{name}.nii.gz"))
    return root


@pytest.fixture(scope="module")
def dask_scheduler() -> str:
    """Address of a local Dask cluster of 2 single-threaded worker processes (once per module)."""
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="session")
def test_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder (for $MEDSYNTH_MODELS_PATH) holding two small real ONNX models:

    - 'cond-test' (task demo): output = input + (age − 40)·0.1 + 1 (one-hot diagnosis), so the
      per-case parameters can be read back from every output voxel;
    - 'sct-test' (task synth-ct): output = 2·input − 1000 HU, clipped to −1024…3071;
    - 'future-test' (task future-mri): see :func:`batch_helpers.install_future_test_model`.
    """
    root = tmp_path_factory.mktemp("models")
    conditions = [{"name": "age", "kind": "number", "range": [40, 90], "units": "years", "offset": 40, "scale": 0.1},
                  {"name": "diagnosis", "kind": "category", "categories": ["CN", "MCI", "AD"]}]
    inference = {"patch_size": [16, 16, 16], "overlap": 0.0, "batch_size": 8}
    install_model(root / "cond-test", pointwise_graph(scale=1.0, offset=0.0, patch=(16, 16, 16), condition_width=4),
                  id="cond-test", conditioning=conditions, inference=inference)
    install_future_test_model(root / "future-test")
    install_model(root / "sct-test", pointwise_graph(scale=2.0, offset=-1000.0, patch=(16, 16, 16)),
                  id="sct-test", task="synth-ct", inference=inference,
                  input={"modality": "MR", "orientation": "native", "spacing_mm": "native",
                         "normalization": {"scheme": "none"}},
                  outputs=[{"name": "sct", "units": "HU", "clip": [-1024, 3071], "background_value": -1024}])
    return root


@pytest.fixture(scope="session")
def test_registry(test_models_dir: Path) -> ModelRegistry:
    """The test models first, then the usual folders (for demo-edges)."""
    return ModelRegistry([("test", test_models_dir)] + ModelRegistry.default().search_folders)


@pytest.fixture(scope="session")
def anomaly_registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    """A registry holding 'anomaly-test' (see :func:`batch_helpers.install_anomaly_test_model`)."""
    root = tmp_path_factory.mktemp("anomaly_models")
    install_anomaly_test_model(root / "anomaly-test")
    return ModelRegistry([("test", root)])

"""Fixtures for anomaly tests: the built-in model, analyses of real scans computed once per session,
and the Slicer-side ``headless`` fixture reused from ``Testing/slicer/conftest.py``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import SimpleITK as sitk

_SLICER_CONFTEST = Path(__file__).resolve().parents[1] / "slicer" / "conftest.py"
_spec = importlib.util.spec_from_file_location("medsynth_slicer_test_fixtures", _SLICER_CONFTEST)
_slicer_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_slicer_fixtures)  # also puts the module folders on sys.path, as Slicer does
headless = _slicer_fixtures.headless

from anomaly_helpers import MODEL_ID


@pytest.fixture(scope="session")
def anomaly_model():
    """The built-in anomaly model, loaded once (sha256 checked)."""
    from medsynth.models import ModelRegistry
    from medsynth.runtime import OnnxGenerator

    return OnnxGenerator(ModelRegistry.default().find(MODEL_ID), threads=2)


@pytest.fixture(scope="session")
def stroke_t1(shared_data: Path) -> Path:
    """The real chronic-stroke T1 at its own 1 mm (the clinical-content tests)."""
    return shared_data / "stroke" / "T1.nii.gz"


@pytest.fixture(scope="session")
def stroke_t1_2mm(test_data: Path) -> Path:
    """The same stroke T1 (MIT), 2 mm copy committed under Testing/data: for tests of the mechanics."""
    return test_data / "stroke_2mm" / "T1.nii.gz"


@pytest.fixture(scope="session")
def committed_head(test_data: Path) -> Path:
    """The real clinical whole-head T1 committed under Testing/data (untouched by every model)."""
    return test_data / "head_mr_skull_2mm.nii.gz"


@pytest.fixture(scope="session")
def stroke_analysis(anomaly_model, stroke_t1):
    """The stroke T1 analysed by the model and the baseline (one registration); the input's voxels
    before the analysis are kept to check they are unchanged."""
    from medsynth.tasks.anomaly.task import analyse_scan

    image = sitk.ReadImage(str(stroke_t1))
    before = sitk.GetArrayFromImage(image).copy()
    results = analyse_scan(image, anomaly_model, ("model", "baseline"), input_description="stroke T1")
    return image, before, results


@pytest.fixture(scope="session")
def held_out_healthy(shared_data: Path) -> Path:
    """A held-out IXI subject (test split), never seen in training."""
    return sorted((shared_data / "subjects_t1").glob("IXI051*.nii.gz"))[0]


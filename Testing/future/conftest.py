"""Fixtures of the future-MRI tests: the built-in model and the held-out IXI subjects, with the
predictions several tests share computed once per session (keeps the suite under its time budget)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # future_helpers

from future_helpers import EVALUATION_AGE, EVALUATION_YEARS, MODEL_ID, SERIES_YEARS  # noqa: E402
from medsynth.io import read_image  # noqa: E402


@pytest.fixture(scope="session")
def future_model():
    """The built-in future-MRI model, loaded once (sha256 verified)."""
    from medsynth.models.registry import BUILTIN_MODELS_DIR, ModelRegistry
    from medsynth.runtime.onnx_model import OnnxGenerator

    return OnnxGenerator(ModelRegistry([("built-in", BUILTIN_MODELS_DIR)]).find(MODEL_ID))


@pytest.fixture(scope="session")
def held_out(shared_data):
    """{subject id: (Subject, T1, DLMUSE labels)} for the subjects the model never saw."""
    from medsynth.training.future.evaluate import HELD_OUT, ixi_subjects

    subjects = [s for s in ixi_subjects(shared_data / "subjects_t1") if s.id in HELD_OUT]
    assert len(subjects) == 2
    return {s.id: (s, read_image(s.t1), read_image(s.labels)) for s in subjects}


@pytest.fixture(scope="session")
def held_out_predictions(future_model, held_out):
    """{(subject, diagnosis): FutureResult} at the evaluation interval, volumes measured with the
    subject's real DLMUSE labels; the AD prediction of each subject also holds :data:`SERIES_YEARS`."""
    from medsynth.tasks.future import predict_future

    results = {}
    for subject_id, (subject, t1, labels) in held_out.items():
        for diagnosis in ("CN", "MCI", "AD"):
            years = sorted({EVALUATION_YEARS, *SERIES_YEARS}) if diagnosis == "AD" else EVALUATION_YEARS
            results[subject_id, diagnosis] = predict_future(t1, EVALUATION_AGE, subject.sex, diagnosis, years,
                                                            labels=labels, model=future_model)
    return results

"""Fixtures for the synthetic-CT tests: the built-in model, small real MRs, and input snapshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import SimpleITK as sitk

from medsynth.models.registry import BUILTIN_MODELS_DIR, ModelRegistry

MODEL_ID = "synthct-head"

# Sleeping (not spinning) OpenMP threads: training steps run several times faster on a CPU shared
# with other test runs. Only effective when no earlier test module imported torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(scope="session")
def builtin_entry():
    """The committed built-in synthetic-CT model (its sha256 is checked when it is loaded)."""
    if not (BUILTIN_MODELS_DIR / MODEL_ID / "card.json").is_file():
        pytest.fail(f"the built-in model {MODEL_ID} is missing from {BUILTIN_MODELS_DIR}")
    return ModelRegistry([("built-in", BUILTIN_MODELS_DIR)]).find(MODEL_ID, task="synth-ct")


@pytest.fixture(scope="session")
def head_mr_path(test_data: Path) -> Path:
    """A small real T1 head MR (one person's clinical scan, 2 mm, 80×104×72; never used in training)."""
    return test_data / "head_mr_skull_2mm.nii.gz"


@pytest.fixture()
def head_mr(head_mr_path: Path) -> sitk.Image:
    return sitk.ReadImage(str(head_mr_path))

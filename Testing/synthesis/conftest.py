"""Fixtures of the synthesis tests: phantom material and one toy model trained once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from synthesis_helpers import write_anatomy, write_lesion_scans, write_shapes

pytest.importorskip("torch", reason="training the toy synthesis model needs the training extra (torch)")


@pytest.fixture(scope="session")
def material(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("synthesis-material")
    images, labels = write_anatomy(root / "anatomy")
    return {"images": images, "labels": labels, "shapes": write_shapes(root / "shapes"),
            "scans": write_lesion_scans(root / "scans")}


@pytest.fixture(scope="session")
def toy_model(material, tmp_path_factory) -> Path:
    """A synthesis model trained for a few steps on the phantom lesion scans by the real CLI."""
    models = tmp_path_factory.mktemp("synthesis-models")
    result = subprocess.run([sys.executable, "-m", "medsynth", "train", "synthesis", "--scans", str(material["scans"]),
                             "--out", str(models / "toy-synthesis"), "--model-id", "toy-synthesis",
                             "--iterations", "20"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return models / "toy-synthesis"

"""Slicer-side tests run the module logic against the real MRML library (``slicer-core``)."""

import sys

import pytest

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

MODULE_FOLDERS = sorted(p for p in (REPO_ROOT / "MedSynthModules").iterdir() if (p / "CMakeLists.txt").is_file())
for folder in MODULE_FOLDERS:  # as Slicer does for each module path
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@pytest.fixture
def headless():
    """A fresh headless Slicer session (real MRML scene and module logics) per test."""
    from MedSynthLib.headless import start_headless_slicer

    session = start_headless_slicer()
    yield session
    session.scene.Clear(1)

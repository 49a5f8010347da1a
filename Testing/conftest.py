"""Shared pytest fixtures: where the real sample data lives, and scratch folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``$MEDSYNTH_SHARED_DATA`` or ``../shared/data`` beside the checkout, when present."""
    candidates = [os.environ.get("MEDSYNTH_SHARED_DATA"), REPO_ROOT.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and Path(candidate, "MANIFEST.tsv").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-image corpus; tests needing it skip (with the reason) on a machine without it."""
    found = shared_data_dir()
    if found is None:
        pytest.skip("real sample data not found: set MEDSYNTH_SHARED_DATA or place shared/data beside the checkout")
    return found

"""Shared pytest fixtures: where the real sample data lives, and scratch folders."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from medsynth.sample_data import shared_data_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = REPO_ROOT / "Testing" / "data"


@pytest.fixture(scope="session")
def test_data() -> Path:
    """Small real images committed with the repository (sources and licences in ``Testing/data/README.md``)."""
    return TEST_DATA


def _package_file(package: str, inner: str) -> Path:
    """A data file shipped inside an installed package (the test requirements install it)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        pytest.skip(f"{package} is not installed (pip install -r Testing/requirements.txt)")
    path = Path(spec.origin).parent / inner
    if not path.is_file():
        pytest.skip(f"{path} is missing from the installed {package}")
    return path


@pytest.fixture(scope="session")
def mni152_t1_file() -> Path:
    """nilearn's MNI152 2009a T1: a real skull-stripped brain template, 1 mm."""
    return _package_file("nilearn", "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz")


@pytest.fixture(scope="session")
def nibabel_example_4d() -> Path:
    """nibabel's example 4D NIfTI (a real functional series, 2 volumes), from its test data."""
    return _package_file("nibabel", "tests/data/example4d.nii.gz")


@pytest.fixture(scope="session")
def mean_head_file() -> Path:
    """pydeface's mean whole-head T1 (skull and face kept), from other scanners than any training data."""
    return _package_file("pydeface", "data/mean_reg2mean.nii.gz")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-image corpus; tests needing it skip (with the reason) on a machine without it."""
    found = shared_data_dir()
    if found is None:
        pytest.skip("real sample data not found: set MEDSYNTH_SHARED_DATA or place shared/data beside the checkout")
    return found


def pytest_terminal_summary(terminalreporter):
    """One line naming what was skipped and why, so a skip is never mistaken for a pass."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.write_line(f"SKIPPED {len(skipped)}: " + "; ".join(f"{n}× {r}" for r, n in sorted(reasons.items())))

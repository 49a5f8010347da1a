"""Shared pytest fixtures: where the real sample data lives, and scratch folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsynth.sample_data import shared_data_dir
from real_images import MEAN_HEAD, MNI152_T1, NIBABEL_4D, TEST_DATA, package_file

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def test_data() -> Path:
    """Small real images committed with the repository (sources and licences in ``Testing/data/README.md``)."""
    return TEST_DATA


def _package_file(package: str, inner: str) -> Path:
    try:
        return package_file(package, inner)
    except FileNotFoundError as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def mni152_t1_file() -> Path:
    """nilearn's MNI152 2009a T1: a real skull-stripped brain template, 1 mm."""
    return _package_file(*MNI152_T1)


@pytest.fixture(scope="session")
def nibabel_example_4d() -> Path:
    """nibabel's example 4D NIfTI (a real functional series, 2 volumes), from its test data."""
    return _package_file(*NIBABEL_4D)


@pytest.fixture(scope="session")
def mean_head_file() -> Path:
    """pydeface's mean whole-head T1 (skull and face kept), from other scanners than any training data."""
    return _package_file(*MEAN_HEAD)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-image corpus; tests needing it skip (with the reason) on a machine without it."""
    found = shared_data_dir()
    if found is None:
        pytest.skip("needs the real-image corpus, whose IXI (CC BY-SA) and SPM (GPL) files cannot travel with this "
                    "repository: set MEDSYNTH_SHARED_DATA or place shared/data beside the checkout")
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

"""Shared pytest fixtures: where the real sample data lives, and scratch folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsynth.sample_data import shared_data_dir

REPO_ROOT = Path(__file__).resolve().parents[1]


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

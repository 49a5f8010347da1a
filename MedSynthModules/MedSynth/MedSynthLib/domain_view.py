"""The domain report in a module panel: what the selected input looks like, before Apply.

Qt-free: it only sets a label's ``text``, so widgets share it and tests drive it with a stand-in.
"""

from __future__ import annotations

from typing import Callable

from medsynth.errors import MedSynthError


def show_domain_report(label, report: Callable[[], str] | None) -> None:
    """Put ``report()`` (a logic's ``domainReport``) into ``label``; an unusable input shows why."""
    if report is None:
        label.text = "Select an input volume to see whether it is inside the model's validated domain."
        return
    try:
        label.text = report()
    except MedSynthError as exc:
        label.text = f"Cannot check this input: {exc}"

"""onnxruntime inside Slicer: installed on first use, after the user agrees, never at import time."""

from __future__ import annotations

import importlib.util
from typing import Callable

import slicer

RUNTIME_REQUIREMENTS = ("onnxruntime>=1.17",)


def missing_runtime_packages() -> list[str]:
    """Requirements whose import package is not installed in this Python."""
    return [req for req in RUNTIME_REQUIREMENTS if importlib.util.find_spec(req.split(">")[0].split("=")[0]) is None]


def ensure_runtime(confirm: Callable[[str], bool]) -> bool:
    """Install missing run-time packages if ``confirm(message)`` agrees; True when all are present.

    Uses Slicer's ``pip_ensure`` (``slicer.packaging`` or ``slicer.pydeps``, Slicer ≥ 5.11) where it
    exists, else ``slicer.util.pip_install``.
    """
    missing = missing_runtime_packages()
    if not missing:
        return True
    message = ("MedSynth runs its models with onnxruntime, which is not installed in Slicer yet.\n"
               f"Install {', '.join(missing)} now (download of about 15–20 MB)?")
    if not confirm(message):
        return False
    ensurer = _pip_ensure()
    if ensurer is not None:
        from packaging.requirements import Requirement

        ensurer([Requirement(req) for req in missing], requester="MedSynth")
    else:
        slicer.util.pip_install(" ".join(missing))
    importlib.invalidate_caches()
    return not missing_runtime_packages()


def _pip_ensure():
    for module_name in ("slicer.packaging", "slicer.pydeps"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, "pip_ensure"):
            return module.pip_ensure
    return None

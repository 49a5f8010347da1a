"""Make the ``medsynth`` engine importable however the modules were loaded.

Built as an extension package, the engine's files are installed beside the modules (in
Slicer's scripted-modules folder, already on ``sys.path``). Loaded straight from a source
checkout through "additional module paths", the engine sits at ``<repo>/MedSynthExtension``:
add that folder to ``sys.path`` when ``medsynth`` is not importable yet.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

#: ``<repo>/MedSynthModules/MedSynth/MedSynthLib/engine_path.py`` → ``<repo>/MedSynthExtension``
SOURCE_TREE_ENGINE = Path(__file__).resolve().parents[3] / "MedSynthExtension"


def ensure_engine_importable() -> str:
    """Return how the engine was found (``installed`` or the source path); raise if nowhere."""
    if importlib.util.find_spec("medsynth") is not None:
        return "installed"
    if (SOURCE_TREE_ENGINE / "medsynth" / "__init__.py").is_file():
        sys.path.insert(0, str(SOURCE_TREE_ENGINE))
        return str(SOURCE_TREE_ENGINE)
    raise ImportError("The MedSynth engine package 'medsynth' was not found. Reinstall the MedSynth extension, "
                      f"or keep the source checkout complete (expected {SOURCE_TREE_ENGINE}).")

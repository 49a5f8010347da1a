"""Task-agnostic model-card writing for trainers.

A trainer assembles the card's blocks (input, inference, outputs, training, validation, …);
:func:`write_card` fills in the weights' file name and sha256, validates the whole card with the
runtime's own parser (so a card that the runtime would refuse is never written) and writes
``card.json`` atomically beside the weights.
"""

from __future__ import annotations

import copy
import json
import platform
from pathlib import Path
from typing import Any, Mapping

from medsynth.io.atomic import write_text_atomic
from medsynth.models.card import CARD_FILE_NAME, ModelCard, parse_card
from medsynth.models.integrity import sha256_of

#: Key order of a written card (the schema's order, for readable diffs).
_ORDER = ("schema_version", "id", "version", "task", "name", "description", "weights", "input", "domain", "conditioning",
          "inference", "outputs", "training", "validation", "intended_use", "limitations", "license", "authors",
          "references")


def write_card(folder: str | Path, card: Mapping[str, Any], weights_path: str | Path) -> ModelCard:
    """Complete ``card`` with ``weights`` (file name + sha256 of ``weights_path``), validate it and
    write ``folder/card.json``. The weights file must already be in ``folder``."""
    folder, weights_path = Path(folder), Path(weights_path)
    if weights_path.resolve().parent != folder.resolve():
        raise ValueError(f"the weights {weights_path} must be inside the model folder {folder}")
    data = copy.deepcopy(dict(card))
    data.setdefault("schema_version", 1)
    data["weights"] = {"file": weights_path.name, "sha256": sha256_of(weights_path)}
    ordered = {key: data[key] for key in _ORDER if key in data}
    ordered.update({key: value for key, value in data.items() if key not in ordered})
    parsed = parse_card(ordered, source=str(folder / CARD_FILE_NAME))
    write_text_atomic(folder / CARD_FILE_NAME, json.dumps(ordered, indent=2, ensure_ascii=False) + "\n")
    return parsed


def software_versions() -> dict[str, str]:
    """Versions of the training stack, for the card's training notes."""
    versions = {"python": platform.python_version()}
    for module in ("torch", "monai", "onnx", "onnxruntime", "numpy", "scipy", "SimpleITK"):
        try:
            versions[module] = __import__(module).__version__
        except (ImportError, AttributeError):
            continue
    return versions

"""Model cards: load, validate (schema + meaning) and read them through typed fields.

The card is the contract between a trained ONNX file and the runtime: grid, normalisation,
patching, conditioning and output scaling all come from it, so a model that needs something
the card does not say cannot be run by accident.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from medsynth.errors import ModelError
from medsynth.models.schema import schema_errors

CARD_FILE_NAME = "card.json"
_SCHEMA_PATH = Path(__file__).with_name("card_schema.json")


@lru_cache(maxsize=1)
def card_schema() -> dict:
    """The JSON schema every card must satisfy (``card_schema.json`` beside this module)."""
    return json.loads(_SCHEMA_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Normalization:
    """How raw input intensities become network inputs (see :mod:`medsynth.normalize`)."""

    scheme: str
    lower_percentile: float = 0.5
    upper_percentile: float = 99.5
    target_range: tuple[float, float] = (0.0, 1.0)
    offset: float = 0.0
    scale: float = 1.0
    mask: str = "nonzero"


@dataclass(frozen=True)
class Condition:
    """One entry of the conditioning vector: a number within ``range`` or one of ``categories``.

    A number is encoded as ``(value - offset) * scale``; a category as a one-hot block, so it
    takes ``len(categories)`` slots of the vector.
    """

    name: str
    kind: str
    range: tuple[float, float] | None = None
    categories: tuple[str, ...] = ()
    units: str = ""
    description: str = ""
    offset: float = 0.0
    scale: float = 1.0

    @property
    def width(self) -> int:
        return len(self.categories) if self.kind == "category" else 1


@dataclass(frozen=True)
class Inference:
    """Sliding-window settings the model was validated with."""

    patch_size: tuple[int, int, int]
    overlap: float
    blend: str = "gaussian"
    sigma_scale: float = 0.125
    batch_size: int = 2
    pad_value: float = 0.0
    image_input: str = "image"
    condition_input: str = "condition"


@dataclass(frozen=True)
class Output:
    """One output channel: ``value = raw * scale + offset``, then clipped; ``background_value``
    fills voxels outside the input's field of view after resampling back."""

    name: str
    units: str = ""
    description: str = ""
    scale: float = 1.0
    offset: float = 0.0
    clip: tuple[float, float] | None = None
    background_value: float = 0.0
    interpolation: str = "linear"


@dataclass(frozen=True)
class DomainSpec:
    """The card's domain of validity (``domain`` block): what its figures were measured on.

    ``contrasts`` of T1, T1post, T2, FLAIR, PD, CT or ``any``; ``skull``: ``required`` (whole
    head), ``absent`` (brain-extracted) or ``any``; ``spacing_mm``: (finest, coarsest) voxel
    spacing accepted on any axis.
    """

    modality: str
    contrasts: tuple[str, ...]
    skull: str
    measured_on: str
    body_part: str = "head"
    spacing_mm: tuple[float, float] | None = None
    min_field_of_view_mm: float | None = None


@dataclass(frozen=True)
class ModelCard:
    """A validated model card. ``raw`` keeps the JSON as written (for display and provenance)."""

    id: str
    version: str
    task: str
    name: str
    weights_file: str
    weights_sha256: str
    modality: str
    contrast: str
    orientation: str
    spacing_mm: tuple[float, float, float] | None
    field_of_view_mm: tuple[float, float, float] | None
    normalization: Normalization
    conditions: tuple[Condition, ...]
    inference: Inference
    outputs: tuple[Output, ...]
    intended_use: str
    limitations: tuple[str, ...]
    license: str
    domain: DomainSpec | None = None
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def condition_width(self) -> int:
        """Length of the conditioning vector the network takes (0: no conditioning input)."""
        return sum(condition.width for condition in self.conditions)

    def summary(self) -> str:
        """A few lines for a clinician: what it does, for what, and what it must not be used for."""
        lines = [f"{self.name} ({self.id} {self.version}) — task {self.task}",
                 f"Input: {self.modality} {self.contrast}".rstrip(),
                 f"Intended use: {self.intended_use}",
                 "Limitations: " + "; ".join(self.limitations),
                 f"Training data: {self.raw.get('training', {}).get('data', 'not stated')}",
                 f"Licence: {self.license}"]
        return "\n".join(lines)


def parse_card(data: Mapping[str, Any], source: str = "card") -> ModelCard:
    """Validate ``data`` against the schema and its meaning; return a :class:`ModelCard`.

    Raises :class:`ModelError` listing every problem, prefixed by ``source`` (usually the path).
    """
    problems = schema_errors(data, card_schema())
    if not problems:
        problems = _meaning_errors(data)
    if problems:
        listing = "\n  - ".join(problems)
        raise ModelError(f"Model card {source} is invalid:\n  - {listing}\nFix the card (schema: {_SCHEMA_PATH.name}).")
    return _build(data)


def load_card(path: str | os.PathLike) -> ModelCard:
    """Read and validate a card file (``card.json``), naming the file in every error."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"Model card not found: {path}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"Model card {path} is not valid JSON ({exc}).") from None
    return parse_card(data, source=str(path))


def _meaning_errors(data: Mapping[str, Any]) -> list[str]:
    """Rules a JSON schema cannot say: ordered ranges, complete conditioning, unique names."""
    errors = []
    norm = data["input"]["normalization"]
    if norm["scheme"] == "percentile" and norm.get("lower_percentile", 0.5) >= norm.get("upper_percentile", 99.5):
        errors.append("card.input.normalization: lower_percentile must be below upper_percentile")
    if norm["scheme"] == "linear" and norm.get("scale", 1.0) == 0:
        errors.append("card.input.normalization.scale: must not be 0")
    for pair, where in _ranges(data):
        if pair[0] >= pair[1]:
            errors.append(f"{where}: the first value must be below the second, got {pair}")
    names = [c["name"] for c in data.get("conditioning", [])]
    for index, condition in enumerate(data.get("conditioning", [])):
        if condition["kind"] == "number" and "range" not in condition:
            errors.append(f"card.conditioning[{index}]: a number needs its valid 'range'")
        if condition["kind"] == "category" and "categories" not in condition:
            errors.append(f"card.conditioning[{index}]: a category needs its 'categories'")
    output_names = [o["name"] for o in data["outputs"]]
    for label, values in (("conditioning", names), ("outputs", output_names)):
        if len(set(values)) != len(values):
            errors.append(f"card.{label}: names must be unique, got {values}")
    return errors


def _ranges(data: Mapping[str, Any]) -> list[tuple[Sequence[float], str]]:
    found = []
    if "spacing_mm" in data.get("domain", {}):
        found.append((data["domain"]["spacing_mm"], "card.domain.spacing_mm"))
    target = data["input"]["normalization"].get("target_range")
    if target is not None:
        found.append((target, "card.input.normalization.target_range"))
    for index, condition in enumerate(data.get("conditioning", [])):
        if "range" in condition:
            found.append((condition["range"], f"card.conditioning[{index}].range"))
    for index, output in enumerate(data["outputs"]):
        if "clip" in output:
            found.append((output["clip"], f"card.outputs[{index}].clip"))
    return found


def _build(data: Mapping[str, Any]) -> ModelCard:
    inp = data["input"]
    norm = dict(inp["normalization"])
    if "target_range" in norm:
        norm["target_range"] = tuple(norm["target_range"])
    spacing = inp["spacing_mm"]
    fov = inp.get("field_of_view_mm")
    inference = dict(data["inference"])
    inference["patch_size"] = tuple(inference["patch_size"])
    return ModelCard(
        id=data["id"],
        version=data["version"],
        task=data["task"],
        name=data["name"],
        weights_file=data["weights"]["file"],
        weights_sha256=data["weights"]["sha256"],
        modality=inp["modality"],
        contrast=inp.get("contrast", ""),
        orientation=inp["orientation"],
        spacing_mm=None if spacing == "native" else tuple(float(s) for s in spacing),
        field_of_view_mm=None if fov is None else tuple(float(f) for f in fov),
        normalization=Normalization(**norm),
        conditions=tuple(_condition(c) for c in data.get("conditioning", [])),
        inference=Inference(**inference),
        outputs=tuple(_output(o) for o in data["outputs"]),
        intended_use=data["intended_use"],
        limitations=tuple(data["limitations"]),
        license=data["license"],
        domain=_domain(data.get("domain")),
        raw=json.loads(json.dumps(data)),
    )


def _domain(entry: Mapping[str, Any] | None) -> DomainSpec | None:
    if entry is None:
        return None
    values = dict(entry)
    values["contrasts"] = tuple(values["contrasts"])
    if "spacing_mm" in values:
        values["spacing_mm"] = tuple(values["spacing_mm"])
    return DomainSpec(**values)


def _condition(entry: Mapping[str, Any]) -> Condition:
    values = dict(entry)
    if "range" in values:
        values["range"] = tuple(values["range"])
    values["categories"] = tuple(values.get("categories", ()))
    return Condition(**values)


def _output(entry: Mapping[str, Any]) -> Output:
    values = dict(entry)
    if "clip" in values:
        values["clip"] = tuple(values["clip"])
    return Output(**values)

"""How an anomaly model's residual becomes a score, findings and an artefact verdict — read from its card.

The settings live in the card's ``validation.scoring`` block because they are part of what was
validated: the threshold and the benchmark figures only hold for the residual, filter, erosion
and minimum finding size they were measured with. A card without the block gets the defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

from medsynth.errors import ModelError
from medsynth.models.card import ModelCard
from medsynth.tasks.anomaly.scoring import RESIDUAL_KINDS

METHODS = ("model", "baseline")
#: Where the brain mask comes from when none is given: the deepbet network on the scan, or the
#: model's population prior after alignment (the first models' recipe).
BRAIN_MASKS = ("deepbet", "prior")


@dataclass(frozen=True)
class AnomalySettings:
    """Scoring settings (units in the field names).

    ``threshold`` / ``baseline_threshold``: score levels for findings of the model and of the
    z-score baseline, chosen on the validation split; ``min_finding_ml``: smallest finding kept;
    ``artefact_threshold``: level of the scan-level artefact score (robust z against healthy
    scans) above which a scan is labelled with an artefact; ``artefact_reference``: median and
    spread of each artefact feature over healthy training scans; ``brain_mask``: one of
    :data:`BRAIN_MASKS`.
    """

    residual: str = "l1+ssim"
    median_size: int = 5
    erosion_voxels: int = 2
    threshold: float = 3.0
    baseline_threshold: float = 3.0
    min_finding_ml: float = 0.5
    artefact_threshold: float = 6.0
    artefact_reference: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    brain_mask: str = "prior"

    def __post_init__(self) -> None:
        if self.brain_mask not in BRAIN_MASKS:
            raise ModelError(f"Unknown brain_mask '{self.brain_mask}' in the card's scoring block; use one of {BRAIN_MASKS}.")
        if self.residual not in RESIDUAL_KINDS:
            raise ModelError(f"Unknown residual '{self.residual}' in the card's scoring block; use one of {RESIDUAL_KINDS}.")
        if self.median_size < 1 or self.erosion_voxels < 0 or self.min_finding_ml < 0:
            raise ModelError("The card's scoring block has a negative size (median_size, erosion_voxels or min_finding_ml).")

    @classmethod
    def from_card(cls, card: ModelCard) -> "AnomalySettings":
        block = dict(card.raw.get("validation", {}).get("scoring", {}))
        known = {name: block[name] for name in cls.__dataclass_fields__ if name in block}
        if "artefact_reference" in known:
            known["artefact_reference"] = {k: tuple(v) for k, v in known["artefact_reference"].items()}
        return cls(**known)

    def threshold_for(self, method: str) -> float:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        return self.threshold if method == "model" else self.baseline_threshold

    def with_values(self, **values: Any) -> "AnomalySettings":
        return replace(self, **values)

    def to_card_block(self) -> dict:
        values = asdict(self)
        values["artefact_reference"] = {k: [float(x) for x in v] for k, v in self.artefact_reference.items()}
        return values

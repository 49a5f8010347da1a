"""What the future-MRI network sees and produces: grid, normalisation, condition vector, outputs.

One :class:`FutureSpec` is shared by the data preparation, the network, the export and the model
card, so the network is trained on exactly what the runtime gives it: the card's grid (the
runtime resamples to it), :func:`medsynth.normalize.normalize` with the card's normalisation, and
the condition vector :func:`medsynth.runtime.conditioning.encode_conditions` builds from the
card's conditioning entries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from medsynth.models.card import Normalization
from medsynth.tasks.future import CHANGE_OUTPUT
from medsynth.tasks.future_regions import ACTIVE_REGIONS, PROBABILITY_PREFIX, REGION_GROUPS, REGION_NAMES
from medsynth.training.future.literature import AGE_RANGE, DIAGNOSES, REFERENCE_AGE, SEXES, YEARS_RANGE


@dataclass(frozen=True)
class FutureSpec:
    """Model grid, normalisation and I/O layout of a future-MRI network.

    ``spacing_mm`` in ITK (x, y, z) order like the card; ``patch_size`` in array (z, y, x) order.
    Condition vector (card order): age as ``(age − age_offset) × age_scale``, sex one-hot (F, M),
    diagnosis one-hot (CN, MCI, AD), years × ``years_scale``.
    """

    spacing_mm: tuple[float, float, float] = (2.0, 2.0, 2.0)
    orientation: str = "RAS"
    patch_size: tuple[int, int, int] = (48, 48, 48)
    overlap: float = 0.125
    normalization: Normalization = field(default_factory=lambda: Normalization(
        scheme="percentile", lower_percentile=0.5, upper_percentile=99.5, target_range=(0.0, 1.0), mask="nonzero"))
    age_offset: float = REFERENCE_AGE
    age_scale: float = 0.05
    years_scale: float = 0.1

    @property
    def spacing_zyx(self) -> tuple[float, float, float]:
        return tuple(reversed(self.spacing_mm))  # type: ignore[return-value]

    @property
    def condition_width(self) -> int:
        return 1 + len(SEXES) + len(DIAGNOSES) + 1

    @property
    def years_index(self) -> int:
        """Position of years in the condition vector (the network multiplies its annual change by it)."""
        return self.condition_width - 1

    @property
    def output_names(self) -> tuple[str, ...]:
        return (CHANGE_OUTPUT,) + tuple(PROBABILITY_PREFIX + name for name in REGION_NAMES)

    @property
    def active_indices(self) -> tuple[int, ...]:
        return tuple(REGION_NAMES.index(name) for name in ACTIVE_REGIONS)

    def condition_vector(self, age: float, sex: str, diagnosis: str, years: float) -> np.ndarray:
        """The float32 vector the card's conditioning produces (what ``encode_conditions`` gives)."""
        vector = np.zeros(self.condition_width, dtype=np.float32)
        vector[0] = (age - self.age_offset) * self.age_scale
        vector[1 + SEXES.index(sex)] = 1.0
        vector[1 + len(SEXES) + DIAGNOSES.index(diagnosis)] = 1.0
        vector[self.years_index] = years * self.years_scale
        return vector

    def conditioning_card(self) -> list[dict]:
        """The card's ``conditioning`` block, consistent with :meth:`condition_vector`."""
        return [
            {"name": "age", "kind": "number", "units": "years", "range": list(AGE_RANGE), "offset": self.age_offset,
             "scale": self.age_scale, "description": "Age at the baseline scan."},
            {"name": "sex", "kind": "category", "categories": list(SEXES),
             "description": "Sex (accepted; the simulated training data has no sex difference)."},
            {"name": "diagnosis", "kind": "category", "categories": list(DIAGNOSES),
             "description": "Clinical group at baseline: cognitively normal, mild cognitive impairment, Alzheimer's disease."},
            {"name": "years", "kind": "number", "units": "years", "range": list(YEARS_RANGE), "offset": 0.0,
             "scale": self.years_scale, "description": "Interval from the baseline to the predicted scan."},
        ]

    def outputs_card(self) -> list[dict]:
        """The card's ``outputs`` block: the change source, then one probability per region."""
        outputs = [{"name": CHANGE_OUTPUT, "units": "% (100 x log volume ratio) over the interval",
                    "description": "Local volume change imposed on the deformation over the interval (negative = "
                                   "shrinkage): the divergence source of the predicted flow. The change map shown to "
                                   "users is measured on the resulting deformation, not this source.",
                    "background_value": 0.0}]
        for group in REGION_GROUPS:
            outputs.append({"name": PROBABILITY_PREFIX + group.name, "units": "probability", "clip": [0.0, 1.0],
                            "description": f"Probability that the voxel belongs to: {group.title}.",
                            "background_value": 1.0 if group.name == "outside" else 0.0})
        return outputs

    def to_dict(self) -> dict:
        values = asdict(self)
        values["normalization"] = self.normalization_card()
        return values

    def normalization_card(self) -> dict:
        values = asdict(self.normalization)
        values["target_range"] = list(values["target_range"])
        return values

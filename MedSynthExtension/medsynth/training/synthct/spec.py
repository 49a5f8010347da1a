"""What a synthetic-CT network sees and produces: grid, normalisation, mask and HU range.

One :class:`SynthCTSpec` is shared by the data preparation, the training loop, the export and
the model card, so that the network is trained on exactly what the runtime will give it: the
card's spacing/orientation (the runtime resamples to them), :func:`medsynth.normalize.normalize`
with the card's normalisation, and :func:`medsynth.tasks.masks.head_mask`'s recipe for the body
outline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from medsynth.models.card import Normalization
from medsynth.tasks.synthct import HEAD_MASK_MARGIN_MM, OUTLINE_THRESHOLD_FRACTION

#: Hounsfield range of SynthRAD2025 (−1024 … 3071 HU): targets are clipped to it, outputs too.
HU_RANGE = (-1024.0, 3071.0)
#: Network outputs are HU / HU_SCALE (keeps targets near unit scale for the optimiser).
HU_SCALE = 1000.0
#: Value written outside the body: air.
AIR_HU = -1024.0


@dataclass(frozen=True)
class SynthCTSpec:
    """Model grid and intensity contract of a synthetic-CT generator.

    ``spacing_mm`` is in ITK (x, y, z) order like the card; ``orientation`` is the card's
    orientation code (``LPS``: array axes z, y, x run inferior→superior, anterior→posterior,
    right→left). ``patch_size`` is in array (z, y, x) order like the card's inference block.
    """

    spacing_mm: tuple[float, float, float] = (2.0, 2.0, 2.0)
    orientation: str = "LPS"
    patch_size: tuple[int, int, int] = (15, 128, 128)
    overlap: float = 0.875
    normalization: Normalization = field(default_factory=lambda: Normalization(
        scheme="percentile", lower_percentile=0.5, upper_percentile=99.5, target_range=(0.0, 1.0), mask="nonzero"))
    mask_margin_mm: float = HEAD_MASK_MARGIN_MM
    mask_threshold_fraction: float = OUTLINE_THRESHOLD_FRACTION

    @property
    def spacing_zyx(self) -> tuple[float, float, float]:
        return tuple(reversed(self.spacing_mm))  # type: ignore[return-value]

    def normalization_card(self) -> dict:
        """The card's ``input.normalization`` block."""
        values = asdict(self.normalization)
        values["target_range"] = list(values["target_range"])
        return values

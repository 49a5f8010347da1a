"""What the domain check found on one input, in words a clinician reads before pressing Apply."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CONTRAST_WORDS = {"T1": "T1-weighted", "T1post": "post-contrast T1-weighted", "T2": "T2-weighted",
                  "FLAIR": "FLAIR", "PD": "proton-density", "CT": ""}


@dataclass(frozen=True)
class DomainReport:
    """Measured traits of an input (see :mod:`medsynth.domain.measure`); confidences are 0–1.

    ``skull``: True = skull and scalp present (whole head), False = brain-extracted.
    ``snr`` and ``bias`` are None for CT; ``evidence`` holds the measured quantities behind each call.
    """

    modality: str
    contrast: str
    contrast_confidence: float
    skull: bool
    skull_confidence: float
    field_of_view_mm: tuple[float, float, float]
    spacing_mm: tuple[float, float, float]
    snr: float | None
    bias: float | None
    evidence: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """E.g. ``"a brain-extracted T1-weighted MR"`` or ``"a whole-head CT"``."""
        extent = "whole-head" if self.skull else "brain-extracted"
        words = CONTRAST_WORDS.get(self.contrast, self.contrast)
        return " ".join(part for part in ("a", extent, words, self.modality) if part)

    def lines(self) -> list[str]:
        """The report as short lines (for ``medsynth info`` and the Slicer modules)."""
        shown = [f"Looks like: {self.describe()}",
                 f"Contrast: {self.contrast} (confidence {self.contrast_confidence:.2f})",
                 f"Skull and scalp: {'present' if self.skull else 'absent (brain-extracted)'} "
                 f"(confidence {self.skull_confidence:.2f})",
                 "Field of view: " + " × ".join(f"{v:.0f}" for v in self.field_of_view_mm) + " mm",
                 "Spacing: " + " × ".join(f"{v:.2f}" for v in self.spacing_mm) + " mm"]
        if self.snr is not None:
            shown.append(f"SNR: {self.snr:.1f}")
        if self.bias is not None:
            shown.append(f"Bias (white-matter level spread between octants): {100 * self.bias:.0f} %")
        return shown

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

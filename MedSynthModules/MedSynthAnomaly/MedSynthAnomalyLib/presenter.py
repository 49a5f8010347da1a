"""What the MedSynthAnomaly panel shows, as Qt-free functions the widget copies onto its controls.

Tested with pytest, so the text and colours a clinician sees (the artefact banner above all) do
not live only in untestable GUI code.
"""

from __future__ import annotations

from dataclasses import dataclass

from medsynth.tasks.anomaly.artefacts import ArtefactVerdict

#: Banner colours (CSS): green for a usable scan, amber for a flagged one.
OK_STYLE = "background-color: #d9f2d9; color: #14501e; font-weight: bold; padding: 6px;"
WARNING_STYLE = "background-color: #ffd27f; color: #5a3300; font-weight: bold; padding: 6px;"


@dataclass(frozen=True)
class Banner:
    text: str
    style: str


def artefact_banner(verdict: ArtefactVerdict | None) -> Banner:
    """The artefact verdict in one line, amber when the scan is flagged."""
    if verdict is None:
        return Banner("Artefact check: run the model to check the scan's quality.", "")
    if verdict.flagged:
        return Banner(f"⚠ {verdict.label.upper()} ARTEFACT SUSPECTED — {verdict.message()}", WARNING_STYLE)
    return Banner(f"✓ {verdict.message()}", OK_STYLE)


def findings_summary(count: int, threshold: float, min_ml: float) -> str:
    """Status line after a run or a threshold change."""
    noun = "finding" if count == 1 else "findings"
    return f"{count} {noun} at score ≥ {threshold:.1f} (regions ≥ {min_ml:g} mL). Click a row to go to it."


def threshold_range(peak_score: float, threshold: float) -> tuple[float, float]:
    """Slider range: from 0 to a little above the larger of the map's peak and the threshold."""
    return 0.0, max(float(peak_score), float(threshold), 1.0) * 1.1


def input_problem(has_input: bool, model_ids: list[str]) -> str | None:
    """Why Apply is disabled, or None."""
    if not model_ids:
        return "No anomaly model is installed; import one in the MedSynth module."
    if not has_input:
        return "Select a T1-weighted brain MRI as input."
    return None

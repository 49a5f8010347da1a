"""The domain gate: is this input like what the model's figures were measured on?

``enforce_domain(image, card)`` measures the input (:func:`measure_domain`), compares it with the
card's ``domain`` block and either returns a :class:`DomainCheck` (inside: ``stamp`` is None) or
raises :class:`OutsideDomainError` saying what was found and what the model needs. With
``allow_outside=True`` (``--outside-domain``, the Slicer checkbox) it returns instead, with
``stamp`` = "outside the validated domain: …" for every output of the run. A modality mismatch
(a CT given to an MR model, or the reverse) is refused even then: the network cannot read it.

A contrast call below :data:`MIN_CONTRAST_CONFIDENCE` is not held against the input (the measure
is unsure, so the gate does not refuse on it) but is named in ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import SimpleITK as sitk

from medsynth.domain.measure import measure_domain
from medsynth.domain.report import CONTRAST_WORDS, DomainReport
from medsynth.errors import InputError
from medsynth.models.card import DomainSpec, ModelCard

#: Contrast calls less sure than this neither refuse nor stamp an input.
MIN_CONTRAST_CONFIDENCE = 0.3
STAMP_PREFIX = "outside the validated domain: "
OPT_IN_HINT = ("To run it anyway, pass --outside-domain (Python: allow_outside=True; Slicer: tick 'Run outside the "
               "validated domain'); every output is then stamped 'outside the validated domain'.")
_TASK_WORDS = {"synth-ct": "synthetic CT", "future-mri": "the future-MRI model", "anomaly": "the anomaly model",
               "demo": "the demo model"}


class OutsideDomainError(InputError):
    """The input is not like the data the model's figures were measured on (exit status 2)."""


@dataclass(frozen=True)
class DomainCheck:
    """The report, the mismatches found (empty inside the domain), notes, and the stamp for outputs."""

    report: DomainReport
    model_id: str
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def inside(self) -> bool:
        return not self.problems

    @property
    def stamp(self) -> str | None:
        """None inside the domain, else ``"outside the validated domain: …"``."""
        if self.inside:
            return None
        return f"{STAMP_PREFIX}{self.report.describe()} given to {self.model_id} ({'; '.join(self.problems)})"


def enforce_domain(image: sitk.Image, card: ModelCard, allow_outside: bool = False,
                   report: DomainReport | None = None) -> DomainCheck:
    """Check ``image`` against ``card.domain`` (see the module docstring); ``report`` reuses a measurement."""
    report = report or measure_domain(image)
    spec = card.domain
    if spec is None:
        return DomainCheck(report, card.id, notes=(f"model {card.id} states no domain of validity; not checked",))
    problems, notes = _mismatches(report, spec)
    check = DomainCheck(report, card.id, tuple(problems), tuple(notes))
    modality_wrong = spec.modality not in ("any", report.modality)
    if check.inside or (allow_outside and not modality_wrong):
        return check
    needs = needs_text(card)
    message = f"This looks like {report.describe()} ({'; '.join(problems)}); {needs}."
    if modality_wrong:
        raise OutsideDomainError(message + f" A {report.modality} cannot be read by a {spec.modality} model, "
                                 "not even with --outside-domain: select the right volume.")
    raise OutsideDomainError(f"{message} {OPT_IN_HINT}")


def domain_summary(image: sitk.Image, card: ModelCard, report: DomainReport | None = None) -> str:
    """The report's lines and the verdict for ``card``: what a module shows before Apply."""
    report = report or measure_domain(image)
    spec = card.domain
    if spec is not None and spec.modality not in ("any", report.modality):
        return "\n".join(report.lines() + [f"Refused: {report.describe()} cannot be read by {card.id}; "
                                            f"{needs_text(card)}."])
    check = enforce_domain(image, card, allow_outside=True, report=report)
    if check.inside:
        verdict = f"Inside the validated domain of {card.id}."
    else:
        verdict = (f"Outside the validated domain of {card.id}: {'; '.join(check.problems)}. {needs_text(card)}. "
                   "Apply refuses it unless 'Run outside the validated domain' is ticked; outputs are then stamped.")
    return "\n".join(report.lines() + [f"Note: {note}" for note in check.notes] + [verdict])


def needs_text(card: ModelCard) -> str:
    """E.g. ``"synthetic CT needs a T1-weighted MR of the whole head, skull and scalp included"``."""
    spec = card.domain
    if spec is None:
        return f"model {card.id} states no domain"
    contrasts = " or ".join(CONTRAST_WORDS.get(c, c) or c for c in spec.contrasts if c != "any")
    kind = " ".join(part for part in (contrasts, spec.modality if spec.modality != "any" else "image") if part)
    extent = {"required": " of the whole head, skull and scalp included", "absent": " of the brain only (brain-extracted)",
              "any": ""}[spec.skull]
    return f"{_TASK_WORDS.get(card.task, card.id)} ({card.id}) needs a {kind}{extent} (validated on {spec.measured_on})"


def _mismatches(report: DomainReport, spec: DomainSpec) -> tuple[list[str], list[str]]:
    problems, notes = [], []
    if spec.modality not in ("any", report.modality):
        problems.append(f"it is {report.modality}, the model needs {spec.modality}")
    elif "any" not in spec.contrasts and report.contrast not in spec.contrasts:
        sure = f"{report.contrast} contrast (confidence {report.contrast_confidence:.2f})"
        if report.contrast_confidence >= MIN_CONTRAST_CONFIDENCE:
            problems.append(f"{sure}, the model needs {'/'.join(spec.contrasts)}")
        else:
            notes.append(f"contrast unsure: {sure}; the model needs {'/'.join(spec.contrasts)}")
    if spec.skull == "required" and not report.skull:
        problems.append("brain-extracted, no skull or scalp")
    if spec.skull == "absent" and report.skull:
        problems.append("skull and scalp present, the model needs a brain-extracted image")
    if spec.spacing_mm is not None:
        low, high = spec.spacing_mm
        if any(s < low or s > high for s in report.spacing_mm):
            shown = " × ".join(f"{s:.2f}" for s in report.spacing_mm)
            problems.append(f"voxel spacing {shown} mm, outside {low:g}–{high:g} mm")
    if spec.min_field_of_view_mm is not None and min(report.field_of_view_mm) < spec.min_field_of_view_mm:
        problems.append(f"field of view {min(report.field_of_view_mm):.0f} mm along one axis, "
                        f"the model needs at least {spec.min_field_of_view_mm:g} mm")
    return problems, notes

"""Acceptance criteria of a validation dossier, declared before the figures are computed.

A criteria file is JSON: ``{"<figure>": {"min" | "max": number, "why": "text"}, ...}``. Every
criterion is judged on the worst case of the cohort (the lowest value for a ``min``, the highest for
a ``max``): a commissioning meeting accepts a tool for every patient, not for the average one.
Figures a cohort does not produce (e.g. proton figures when only photons were planned) are
reported as "not measured", which is not a pass.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from medsynth.errors import InputError

#: The criteria used when none are given: common commissioning tolerances, not fitted to any data here.
DEFAULT_SYNTHCT_CRITERIA: dict[str, dict] = {
    "image_mae_hu": {"max": 100.0, "why": "image MAE in the head; SynthRAD 2023 brain entries reach 50-90 HU"},
    "bone_dice": {"min": 0.7, "why": "bone (> 300 HU) of sCT and CT overlap"},
    "photon_gamma_pass_percent": {"min": 95.0, "why": "2 %/2 mm global gamma, the usual patient-QA level"},
    "photon_dose_mae_percent": {"max": 1.0, "why": "dose MAE where CT dose >= 90 % Rx, % of Rx"},
    "proton_gamma_pass_percent": {"min": 90.0, "why": "2 %/2 mm global gamma; protons are range-sensitive"},
    "proton_dose_mae_percent": {"max": 2.0, "why": "dose MAE where CT dose >= 90 % Rx, % of Rx"},
    "proton_range_shift_abs_mm": {"max": 3.0, "why": "|R80 shift| on the central ray; clinical range margins are ~3 mm"},
}


@dataclass(frozen=True)
class Verdict:
    """One criterion judged on a cohort."""

    figure: str
    bound: str
    threshold: float
    worst: float | None
    worst_case: str | None
    why: str

    @property
    def status(self) -> str:
        if self.worst is None:
            return "not measured"
        ok = self.worst >= self.threshold if self.bound == "min" else self.worst <= self.threshold
        return "pass" if ok else "FAIL"


def load_criteria(path: Path | None) -> dict[str, dict]:
    """The criteria in ``path`` (JSON), or :data:`DEFAULT_SYNTHCT_CRITERIA`."""
    if path is None:
        return DEFAULT_SYNTHCT_CRITERIA
    try:
        criteria = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"Cannot read the criteria file {path}: {exc}") from exc
    if not isinstance(criteria, dict) or not criteria:
        raise InputError(f"{path}: the criteria must be a JSON object of figure -> {{'min'|'max': number}}.")
    for figure, rule in criteria.items():
        bounds = [b for b in ("min", "max") if isinstance(rule, dict) and isinstance(rule.get(b), (int, float))]
        if len(bounds) != 1:
            raise InputError(f"{path}: criterion '{figure}' needs exactly one numeric 'min' or 'max'.")
    return criteria


def judge(criteria: Mapping[str, dict], cases: Sequence[tuple[str, Mapping[str, float | None]]]) -> list[Verdict]:
    """Each criterion on the worst case among ``cases`` ((case name, figures) pairs)."""
    verdicts = []
    for figure, rule in criteria.items():
        bound = "min" if "min" in rule else "max"
        values = [(v, name) for name, figures in cases
                  if (v := figures.get(figure)) is not None and not math.isnan(v)]
        worst = (min(values) if bound == "min" else max(values)) if values else (None, None)
        verdicts.append(Verdict(figure, bound, float(rule[bound]), worst[0], worst[1], str(rule.get("why", ""))))
    return verdicts

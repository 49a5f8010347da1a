"""Annual regional brain volume change by diagnosis, from the literature, as the simulator uses it.

Each entry is a rounded summary of published group means, with the range the evaluation checks
against and where the numbers come from. Signed: negative = volume loss, positive = expansion
(ventricles). They describe groups of about 65–80-year-olds; :func:`annual_rate` adjusts the
normal-ageing part for age. These are simulation inputs for a demonstration model, not clinical
reference values: check the papers before relying on any number.

Sources
-------
* [Barnes2009] Barnes J et al. A meta-analysis of hippocampal atrophy rates in Alzheimer's
  disease. Neurobiol Aging 2009;30:1711–1723. Hippocampus: AD 4.66 %/yr (95 % CI 3.92–5.40),
  controls 1.41 %/yr (0.52–2.30).
* [Henneman2009] Henneman WJP et al. Hippocampal atrophy rates in Alzheimer disease: added value
  over whole brain volume measures. Neurology 2009;72:999–1007 (MCI between controls and AD).
* [Jack2004] Jack CR Jr et al. Comparison of different MRI brain atrophy rate measures with
  clinical disease progression in AD. Neurology 2004;62:591–600 (hippocampus, whole brain and
  ventricles in controls, MCI and AD; ventricles expand several %/yr, fastest in AD).
* [Nestor2008] Nestor SM et al. Ventricular enlargement as a possible measure of Alzheimer's
  disease progression validated using the ADNI database. Brain 2008;131:2443–2454.
* [Fotenos2005] Fotenos AF et al. Normative estimates of cross-sectional and longitudinal brain
  volume decline in aging and AD. Neurology 2005;64:1032–1039. Whole brain: non-demented
  0.45 %/yr, very mild AD about 1 %/yr.
* [Sluimer2008] Sluimer JD et al. Whole-brain atrophy rate and cognitive decline: longitudinal
  MR study of memory clinic patients. Radiology 2008;248:590–598 (AD about 2 %/yr).
* [Fraser2015] Fraser MA et al. A systematic review and meta-analysis of longitudinal
  hippocampal atrophy in healthy human ageing. NeuroImage 2015;112:364–374 (atrophy in healthy
  ageing accelerates with age, roughly doubling between the mid-50s and the mid-70s).

Regions without a single meta-analytic value (amygdala, cortex, white matter, deep grey matter,
cerebellum and brainstem) are marked ``derived``: amygdala ≈ 0.85 × hippocampus; the others
chosen so that their volume-weighted sum reproduces the whole-brain rates of
[Fotenos2005]/[Sluimer2008]. Sex is accepted as a condition but no sex difference is simulated
(reported differences are small and inconsistent).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DIAGNOSES = ("CN", "MCI", "AD")
SEXES = ("F", "M")
#: Age (years) the tabulated rates describe; :func:`age_factor` is 1 there.
REFERENCE_AGE = 72.0
#: Normal-ageing atrophy grows by this factor per year of age (doubling in ~20 years, [Fraser2015]).
AGEING_GROWTH_PER_YEAR = math.log(2.0) / 20.0
#: Ages (years) the model accepts: the cited cohorts are 55–90; below 50 the extrapolation is not credible.
AGE_RANGE = (50.0, 90.0)
#: Intervals (years) the model accepts.
YEARS_RANGE = (0.0, 10.0)


@dataclass(frozen=True)
class Rate:
    """Annual % volume change of one region in one diagnostic group, with its accepted range."""

    percent_per_year: float
    low: float
    high: float
    source: str


#: region → diagnosis → rate at :data:`REFERENCE_AGE`.
RATES: dict[str, dict[str, Rate]] = {
    "hippocampus": {
        "CN": Rate(-1.41, -2.30, -0.52, "Barnes2009 controls (95% CI)"),
        "MCI": Rate(-2.9, -3.9, -2.0, "between Barnes2009 groups; Henneman2009, Jack2004 MCI means"),
        "AD": Rate(-4.66, -5.40, -3.92, "Barnes2009 AD (95% CI)"),
    },
    "amygdala": {
        "CN": Rate(-1.2, -2.0, -0.4, "derived: 0.85 x hippocampus"),
        "MCI": Rate(-2.5, -3.4, -1.6, "derived: 0.85 x hippocampus"),
        "AD": Rate(-4.0, -4.8, -3.2, "derived: 0.85 x hippocampus"),
    },
    "ventricles": {
        "CN": Rate(3.0, 1.5, 4.5, "Jack2004, Nestor2008 controls"),
        "MCI": Rate(5.0, 3.5, 6.5, "Jack2004, Nestor2008 MCI"),
        "AD": Rate(7.5, 5.0, 10.0, "Jack2004, Nestor2008 AD"),
    },
    "cortex": {
        "CN": Rate(-0.5, -0.9, -0.2, "derived from whole-brain rates"),
        "MCI": Rate(-0.9, -1.4, -0.5, "derived from whole-brain rates"),
        "AD": Rate(-1.6, -2.5, -1.0, "derived from whole-brain rates"),
    },
    "white_matter": {
        "CN": Rate(-0.35, -0.7, -0.1, "derived from whole-brain rates"),
        "MCI": Rate(-0.6, -1.0, -0.3, "derived from whole-brain rates"),
        "AD": Rate(-1.0, -1.6, -0.5, "derived from whole-brain rates"),
    },
    "deep_grey": {
        "CN": Rate(-0.5, -0.9, -0.2, "derived from whole-brain rates"),
        "MCI": Rate(-0.8, -1.3, -0.4, "derived from whole-brain rates"),
        "AD": Rate(-1.3, -2.0, -0.7, "derived from whole-brain rates"),
    },
    "cerebellum_brainstem": {
        "CN": Rate(-0.3, -0.6, -0.05, "derived from whole-brain rates"),
        "MCI": Rate(-0.4, -0.8, -0.1, "derived from whole-brain rates"),
        "AD": Rate(-0.6, -1.1, -0.2, "derived from whole-brain rates"),
    },
    "whole_brain": {
        "CN": Rate(-0.45, -0.7, -0.2, "Fotenos2005 non-demented"),
        "MCI": Rate(-0.8, -1.3, -0.5, "between Fotenos2005 groups; Jack2004"),
        "AD": Rate(-1.3, -2.5, -0.8, "Fotenos2005 very mild AD ~1, Sluimer2008 AD ~2"),
    },
}


def age_factor(age: float) -> float:
    """Multiplier of the normal-ageing part of atrophy at ``age`` (1 at :data:`REFERENCE_AGE`)."""
    return math.exp(AGEING_GROWTH_PER_YEAR * (float(age) - REFERENCE_AGE))


def _check(region: str, diagnosis: str) -> None:
    if region not in RATES:
        raise KeyError(f"no literature rate for region {region!r}; known: {sorted(RATES)}")
    if diagnosis not in DIAGNOSES:
        raise KeyError(f"unknown diagnosis {diagnosis!r}; use one of {DIAGNOSES}")


def annual_rate(region: str, diagnosis: str, age: float) -> float:
    """Annual % change of ``region`` for ``diagnosis`` at ``age``: the controls' rate scaled by
    :func:`age_factor` plus the diagnosis' excess over controls (disease-related atrophy is not
    scaled with age)."""
    _check(region, diagnosis)
    normal = RATES[region]["CN"].percent_per_year
    return normal * age_factor(age) + (RATES[region][diagnosis].percent_per_year - normal)


def literature_range(region: str, diagnosis: str, age: float) -> tuple[float, float]:
    """The accepted annual % range of ``region`` for ``diagnosis`` at ``age`` (ordered low, high),
    shifted by the same age adjustment as :func:`annual_rate`."""
    _check(region, diagnosis)
    entry = RATES[region][diagnosis]
    shift = annual_rate(region, diagnosis, age) - entry.percent_per_year
    return entry.low + shift, entry.high + shift

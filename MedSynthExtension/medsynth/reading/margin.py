"""Evidence of realism: an upper confidence bound of reader accuracy below a declared margin.

"Not significantly above chance" passes any study too small to show anything. Here the claim has
to be earned: the one-sided upper ``confidence`` bound of the mean accuracy must lie below the
margin (default 0.60). Cases and readers are both random effects — the claim is about other
cases of the generator and other readers — so the variance of the mean accuracy of an R × N
readers-by-cases table of correct (1) / wrong (0) is, for a crossed two-way random-effects model,

    Var(mean) = sigma_reader² / R + sigma_case² / N + sigma_error² / (R N),

estimated without bias by ``(MS_reader + MS_case - MS_error) / (R N)`` from the two-way ANOVA mean
squares, with Satterthwaite's degrees of freedom for the t quantile (the crossed-design analogue
of Obuchowski–Rockette for a proportion). With a single reader the reader term cannot be
estimated: the bound then covers new cases for that reader only, ``MS_case / N`` with N - 1 df.

:func:`plan_cases` inverts the same variance for a planned study: how many cases give the
requested power when the true accuracy is ``expected``, given assumed reader and case spreads.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from medsynth.reading.study import Study

DEFAULT_MARGIN = 0.60
#: Planning assumptions: SD of reader accuracy around the mean, and of case accuracy.
DEFAULT_READER_SD = 0.05
DEFAULT_CASE_SD = 0.15


@dataclass(frozen=True)
class AccuracyBound:
    """Mean accuracy over a complete readers × cases table and its one-sided upper bound."""

    accuracy: float
    upper: float
    standard_error: float
    df: float
    n_readers: int
    n_cases: int
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


def accuracy_upper_bound(correct: Sequence[Sequence[float]], confidence: float = 0.95) -> AccuracyBound | None:
    """Upper ``confidence`` bound of the mean of a complete R × N table of 0/1 (readers × cases).

    ``None`` when there are fewer than two cases. The variance estimate is floored at the pure
    binomial one, ``p (1 - p) / (R N)``, so a table that happens to show no case or reader spread
    is not reported as more certain than independent readings would be.
    """
    table = np.asarray(correct, dtype=float)
    if table.ndim != 2 or table.shape[1] < 2 or table.shape[0] < 1:
        return None
    n_readers, n_cases = table.shape
    mean = float(table.mean())
    case_means, reader_means = table.mean(axis=0), table.mean(axis=1)
    ms_case = n_readers * float(np.sum((case_means - mean) ** 2)) / (n_cases - 1)
    if n_readers == 1:
        variance, df = ms_case / n_cases, float(n_cases - 1)
    else:
        ms_reader = n_cases * float(np.sum((reader_means - mean) ** 2)) / (n_readers - 1)
        residual = table - case_means[None, :] - reader_means[:, None] + mean
        ms_error = float(np.sum(residual ** 2)) / ((n_readers - 1) * (n_cases - 1))
        total = ms_reader + ms_case - ms_error
        variance = total / (n_readers * n_cases)
        denominator = (ms_reader ** 2 / (n_readers - 1) + ms_case ** 2 / (n_cases - 1)
                       + ms_error ** 2 / ((n_readers - 1) * (n_cases - 1)))
        df = total ** 2 / denominator if total > 0 and denominator > 0 else float(n_cases - 1)
    variance = max(variance, mean * (1 - mean) / (n_readers * n_cases))
    df = max(1.0, df)
    se = math.sqrt(variance)
    from scipy.stats import t as student_t

    upper = min(1.0, mean + float(student_t.ppf(confidence, df)) * se)
    return AccuracyBound(mean, upper, se, df, n_readers, n_cases, confidence)


def complete_table(correct_by_reader: dict[str, dict[str, bool]]) -> tuple[list[str], list[str], np.ndarray]:
    """``(readers, cases, table)``: the cases every reader with any call has called, as 0/1."""
    readers = sorted(r for r, calls in correct_by_reader.items() if calls)
    if not readers:
        return [], [], np.zeros((0, 0))
    cases = sorted(set.intersection(*(set(correct_by_reader[r]) for r in readers)))
    table = np.array([[float(correct_by_reader[r][c]) for c in cases] for r in readers], dtype=float)
    return readers, cases, table.reshape(len(readers), len(cases))


def _planned_moments(n_cases: int, readers: int, expected: float, reader_sd: float,
                     case_sd: float) -> tuple[float, float]:
    """``(standard error, Satterthwaite df)`` of the mean accuracy under the planning model:
    expected mean squares of the crossed design put into the estimator of :func:`accuracy_upper_bound`."""
    within = max(expected * (1 - expected) - reader_sd ** 2 - case_sd ** 2, 1e-12)
    ms_case = within + readers * case_sd ** 2
    if readers == 1:
        return math.sqrt(ms_case / n_cases), float(n_cases - 1)
    ms_reader = within + n_cases * reader_sd ** 2
    total = ms_reader + ms_case - within
    df = total ** 2 / (ms_reader ** 2 / (readers - 1) + ms_case ** 2 / (n_cases - 1)
                       + within ** 2 / ((readers - 1) * (n_cases - 1)))
    return math.sqrt(total / (readers * n_cases)), df


def planned_power(n_cases: int, readers: int, margin: float = DEFAULT_MARGIN, expected: float = 0.5,
                  confidence: float = 0.95, reader_sd: float = DEFAULT_READER_SD,
                  case_sd: float = DEFAULT_CASE_SD) -> float:
    """Probability that the upper bound falls below ``margin`` when the true accuracy is ``expected``:
    ``F_t((margin - expected) / SE - t_conf)`` with the planned SE and df (the t, not the normal,
    because with few readers the bound's own t quantile and noisy variance cost power)."""
    from scipy.stats import t as student_t

    se, df = _planned_moments(n_cases, readers, expected, reader_sd, case_sd)
    return float(student_t.cdf((margin - expected) / se - student_t.ppf(confidence, df), df))


def plan_cases(margin: float = DEFAULT_MARGIN, readers: int = 3, expected: float = 0.5, power: float = 0.8,
               confidence: float = 0.95, reader_sd: float = DEFAULT_READER_SD,
               case_sd: float = DEFAULT_CASE_SD, max_cases: int = 100_000) -> int | None:
    """Smallest number of cases (each read by every reader) giving ``power`` to show accuracy below
    ``margin`` when it truly is ``expected``; ``None`` when even ``max_cases`` cannot, because the
    reader-to-reader spread alone is too large for that many readers (add readers)."""
    if not 0 < expected < margin < 1:
        raise ValueError(f"need 0 < expected ({expected}) < margin ({margin}) < 1")
    if readers < 1:
        raise ValueError("need at least one reader")

    def enough(n: int) -> bool:
        return planned_power(n, readers, margin, expected, confidence, reader_sd, case_sd) >= power

    if not enough(max_cases):
        return None
    low, high = 2, 2
    while not enough(high):
        low, high = high, min(high * 2, max_cases)
    while low < high:  # smallest n in (low, high] with enough power (power grows with n)
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle + 1
    return high


def size_warnings(study: "Study", expected: float = 0.5, power: float = 0.8) -> list[str]:
    """A warning per margin criterion the study is too small to pass with ``power`` even when
    readers truly are at ``expected`` accuracy (each listed reader reading every case)."""
    from medsynth.reading.study import ACCURACY_BELOW_MARGIN

    warnings = []
    n_cases = len(study.cases)
    for criterion in study.acceptance:
        if criterion.kind != ACCURACY_BELOW_MARGIN:
            continue
        readers = max(1, len(study.readers)) if criterion.scope == "pooled" else 1
        needed = plan_cases(criterion.margin, readers, expected, power, criterion.confidence)
        if needed is None:
            warnings.append(f"With {readers} reader(s) no number of cases gives {power:.0%} power to show accuracy "
                            f"below {criterion.margin:g} (reader-to-reader spread); add readers "
                            "(see medsynth reading plan).")
        elif n_cases < needed:
            warnings.append(f"The study has {n_cases} cases; {needed} are needed for {power:.0%} power to show "
                            f"accuracy below {criterion.margin:g} with {readers} reader(s) even if readers are at "
                            f"{expected:.0%}, so it will most likely not pass (see medsynth reading plan).")
    return warnings

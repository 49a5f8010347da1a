"""Reader-study statistics as short documented functions, each checkable against a textbook.

- :func:`wilson_interval`: Wilson score interval of a proportion (Wilson 1927).
- :func:`binomial_test`: exact two-sided binomial test; the two-sided p-value sums the
  probabilities of every outcome no more likely than the observed one (the "minlike" rule,
  as in R's ``binom.test`` and SciPy's ``binomtest``).
- :func:`roc_auc`: area under the ROC curve = Mann–Whitney probability that a positive scores
  above a negative, ties counting one half; :func:`roc_curve` gives the points to plot.
- :func:`fleiss_kappa`: chance-corrected agreement of a fixed number of raters on categories
  (Fleiss 1971).
- :func:`icc_2_1`: ICC(2,1), two-way random effects, absolute agreement, single rater
  (Shrout & Fleiss 1979), from a complete subjects × raters table.
- :func:`krippendorff_alpha`: Krippendorff's alpha with nominal / ordinal / interval distance,
  missing ratings allowed (Krippendorff 2011, "Computing Krippendorff's alpha-reliability").

Undefined results (no data, no variance) are ``None`` rather than a misleading number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Proportion:
    """``successes`` of ``n`` with its Wilson interval; all ``None`` when ``n`` is 0."""

    successes: int
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict:
        return {"successes": self.successes, "n": self.n, "value": self.value,
                "ci_low": self.ci_low, "ci_high": self.ci_high}


def proportion(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    """A :class:`Proportion` with its Wilson ``confidence`` interval."""
    if n == 0:
        return Proportion(successes, 0, None, None, None)
    low, high = wilson_interval(successes, n, confidence)
    return Proportion(successes, n, successes / n, low, high)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n`` at two-sided ``confidence``.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and behaves at 0 % and 100 %.
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0; got {successes}/{n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def binomial_pmf(k: int, n: int, p: float) -> float:
    """P(X = k) for X ~ Binomial(n, p), computed in log space (safe for large n)."""
    if not 0 <= k <= n:
        return 0.0
    if p in (0.0, 1.0):
        return float(k == (n if p == 1.0 else 0))
    # math.log of the exact integer binomial coefficient: no lgamma rounding, no overflow
    log_pmf = math.log(math.comb(n, k)) + k * math.log(p) + (n - k) * math.log1p(-p)
    return math.exp(log_pmf)


def binomial_test(successes: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test of H0: success probability = ``p``; returns the p-value."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0; got {successes}/{n}")
    if successes == n * p:
        return 1.0  # the most likely outcome itself: every outcome is at most as likely
    observed = binomial_pmf(successes, n, p)
    # Relative tolerance so outcomes exactly as likely as the observed one are not lost to rounding.
    limit = observed * (1 + 1e-7)
    total = math.fsum(q for q in (binomial_pmf(i, n, p) for i in range(n + 1)) if q <= limit)
    return min(1.0, total)


def roc_auc(is_positive: Sequence[bool], scores: Sequence[float]) -> float | None:
    """ROC AUC of ``scores`` for separating positives from negatives; ``None`` if a class is empty.

    Computed from average ranks (Mann–Whitney U), so tied scores count one half.
    """
    labels = np.asarray(is_positive, dtype=bool)
    values = np.asarray(scores, dtype=float)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(values)
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def roc_curve(is_positive: Sequence[bool], scores: Sequence[float]) -> list[tuple[float, float]]:
    """ROC points (false positive rate, true positive rate) from (0, 0) to (1, 1), one per
    distinct score threshold (a case is called positive when its score >= the threshold)."""
    labels = np.asarray(is_positive, dtype=bool)
    values = np.asarray(scores, dtype=float)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return []
    points = [(0.0, 0.0)]
    for threshold in np.unique(values)[::-1]:
        called = values >= threshold
        points.append((float((called & ~labels).sum() / n_neg), float((called & labels).sum() / n_pos)))
    return points


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa from an (items × categories) table of how many raters chose each category.

    Every item must have the same number of raters (>= 2). ``None`` when agreement by chance is
    already certain (all ratings in one category), where kappa is undefined.
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0:
        return None
    raters = table.sum(axis=1)
    if not np.all(raters == raters[0]) or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of raters for every item")
    n = raters[0]
    per_item = ((table * table).sum(axis=1) - n) / (n * (n - 1))
    observed = per_item.mean()
    category_share = table.sum(axis=0) / table.sum()
    expected = float((category_share ** 2).sum())
    if math.isclose(expected, 1.0):
        return None
    return float((observed - expected) / (1 - expected))


def icc_2_1(ratings: Sequence[Sequence[float]]) -> float | None:
    """ICC(2,1) of a complete (subjects × raters) table: two-way random, absolute agreement,
    single rater. ``None`` with fewer than 2 subjects or raters or with no variance at all."""
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2 or np.isnan(x).any():
        return None
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_error = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    ms_rows = ss_rows / (n - 1)
    ms_cols = ss_cols / (k - 1)
    ms_error = ss_error / ((n - 1) * (k - 1))
    denominator = ms_rows + (k - 1) * ms_error + k * (ms_cols - ms_error) / n
    if math.isclose(denominator, 0.0, abs_tol=1e-12):
        return None
    return float((ms_rows - ms_error) / denominator)


def krippendorff_alpha(ratings: Sequence[Sequence[float | None]], level: str = "ordinal") -> float | None:
    """Krippendorff's alpha from a (raters × units) table; ``None``/NaN marks a missing rating.

    ``level`` is "nominal", "ordinal" or "interval". Units with fewer than two ratings are not
    pairable and are ignored. ``None`` when there is no disagreement to expect (one value only).
    """
    data = np.asarray([[np.nan if v is None else v for v in row] for row in ratings], dtype=float)
    if data.ndim != 2:
        raise ValueError("ratings must be a raters × units table")
    values = np.unique(data[~np.isnan(data)])
    if len(values) < 2:
        return None
    index = {v: i for i, v in enumerate(values)}
    coincidence = np.zeros((len(values), len(values)))
    for unit in data.T:
        present = unit[~np.isnan(unit)]
        m = len(present)
        if m < 2:
            continue
        for a in range(m):
            for b in range(m):
                if a != b:
                    coincidence[index[present[a]], index[present[b]]] += 1 / (m - 1)
    marginals = coincidence.sum(axis=1)
    total = marginals.sum()
    if total == 0:
        return None
    delta = _squared_distances(values, marginals, level)
    observed = (coincidence * delta).sum()
    expected = (np.outer(marginals, marginals) * delta).sum() / (total - 1)
    if math.isclose(expected, 0.0, abs_tol=1e-12):
        return None
    return float(1 - observed / expected)


def likert_summary(values: Sequence[int], scale_min: int, scale_max: int) -> dict:
    """n, mean, standard deviation (n-1), median and the count at each rating of the scale."""
    arr = np.asarray(values, dtype=float)
    counts = {int(level): int((arr == level).sum()) for level in range(scale_min, scale_max + 1)}
    if arr.size == 0:
        return {"n": 0, "mean": None, "sd": None, "median": None, "counts": counts}
    return {"n": int(arr.size), "mean": float(arr.mean()),
            "sd": float(arr.std(ddof=1)) if arr.size > 1 else None,
            "median": float(np.median(arr)), "counts": counts}


def _squared_distances(values: np.ndarray, marginals: np.ndarray, level: str) -> np.ndarray:
    size = len(values)
    if level == "nominal":
        return 1.0 - np.eye(size)
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if level == "ordinal":
        delta = np.zeros((size, size))
        cumulative = np.concatenate([[0.0], np.cumsum(marginals)])
        for c in range(size):
            for k in range(c, size):
                # sum of n_g for g from c to k, minus half of the two end categories
                span = cumulative[k + 1] - cumulative[c] - (marginals[c] + marginals[k]) / 2
                delta[c, k] = delta[k, c] = span ** 2
        return delta
    raise ValueError(f"unknown level {level!r}; use nominal, ordinal or interval")


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given the mean of the ranks they span."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values))
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks

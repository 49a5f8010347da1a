"""The verdict: each acceptance criterion of the study checked against the analysis.

A criterion passes, fails, or is not evaluable (no data for its metric). The study verdict is
FAIL if any criterion fails, otherwise NOT EVALUABLE if any could not be evaluated, otherwise
PASS; a study without criteria gets NO CRITERIA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from medsynth.reading.study import ACCURACY_BELOW_MARGIN, ACCURACY_NOT_ABOVE_CHANCE, AUC_BELOW_MARGIN, Criterion

if TYPE_CHECKING:
    from medsynth.reading.analysis import Detection, LikertResult, ScoreTable
    from medsynth.reading.margin import AccuracyBound

PASS, FAIL, NOT_EVALUABLE, NO_CRITERIA = "PASS", "FAIL", "NOT EVALUABLE", "NO CRITERIA"


@dataclass(frozen=True)
class CriterionResult:
    """``passed`` is ``None`` when not evaluable; ``values`` maps "pooled" or a reader id to the
    value checked (accuracy for the chance test, else the metric)."""

    description: str
    passed: bool | None
    values: dict[str, float | None]
    detail: str


def evaluate_criteria(criteria: Sequence[Criterion], pooled: "Detection | None",
                      per_reader: Mapping[str, "Detection | None"], kappa: float | None,
                      likert: Mapping[str, "LikertResult"],
                      tables: Mapping[str, Any] | None = None,
                      scores: Mapping[str, "ScoreTable"] | None = None) -> list[CriterionResult]:
    """Check every criterion; see :class:`~medsynth.reading.study.Criterion` for their meaning.

    ``tables`` maps "pooled" and each reader id to a complete readers × cases 0/1 table of correct
    calls, for the accuracy margin; ``scores`` the same to confidence scores, for the AUC margin."""
    tables, scores = tables or {}, scores or {}
    results = []
    for criterion in criteria:
        units = {"pooled": pooled} if criterion.scope == "pooled" else dict(per_reader)
        outcomes: dict[str, bool | None] = {}
        values: dict[str, float | None] = {}
        details = []
        if not units:
            results.append(CriterionResult(criterion.describe(), None, {}, "no readers with answers"))
            continue
        for unit, det in units.items():
            if criterion.kind == ACCURACY_NOT_ABOVE_CHANCE:
                ok, value, detail = _chance_test(criterion, det)
            elif criterion.kind == ACCURACY_BELOW_MARGIN:
                ok, value, detail = _margin_test(criterion, tables.get(unit))
            elif criterion.kind == AUC_BELOW_MARGIN:
                ok, value, detail = _auc_margin_test(criterion, scores.get(unit))
            else:
                value = _metric(criterion, det, kappa, likert.get(criterion.question or ""), unit)
                ok = None if value is None else _within(criterion, value)
                detail = "no data" if value is None else f"{value:.4g}"
            outcomes[unit], values[unit] = ok, value
            details.append(f"{unit}: {detail}")
        if any(ok is False for ok in outcomes.values()):
            passed: bool | None = False
        elif any(ok is None for ok in outcomes.values()):
            passed = None
        else:
            passed = True
        results.append(CriterionResult(criterion.describe(), passed, values, "; ".join(details)))
    return results


def verdict_of(results: Sequence[CriterionResult]) -> str:
    if not results:
        return NO_CRITERIA
    if any(r.passed is False for r in results):
        return FAIL
    if any(r.passed is None for r in results):
        return NOT_EVALUABLE
    return PASS


def _chance_test(criterion: Criterion, det: "Detection | None") -> tuple[bool | None, float | None, str]:
    if det is None or det.accuracy.n == 0:
        return None, None, "no readings"
    accuracy, p = det.accuracy.value, det.p_value
    above = accuracy > 0.5 and p < criterion.alpha
    return (not above, accuracy,
            f"accuracy {accuracy:.1%} ({det.accuracy.successes}/{det.accuracy.n}), p = {p:.4g}")


def _margin_test(criterion: Criterion, table: Any) -> tuple[bool | None, float | None, str]:
    from medsynth.reading.margin import accuracy_upper_bound

    bound = None if table is None else accuracy_upper_bound(table, criterion.confidence)
    if bound is None:
        return None, None, "fewer than two cases read by every reader"
    passed = bound.upper < criterion.margin
    return (passed, bound.upper,
            f"accuracy {bound.accuracy:.1%} over {bound.n_readers} reader(s) x {bound.n_cases} cases, "
            f"upper {bound.confidence:.0%} bound {bound.upper:.1%} (df {bound.df:.1f}) "
            f"{'<' if passed else '>='} margin {criterion.margin:.0%}")


def _auc_margin_test(criterion: Criterion, table: "ScoreTable | None") -> tuple[bool | None, float | None, str]:
    result = None if table is None else table.analyse(criterion.confidence, criterion.margin)
    if result is None:
        return None, None, "fewer than two real and two synthetic cases called by every reader"
    passed = result.upper < criterion.margin
    return passed, result.upper, result.statement


def _metric(criterion: Criterion, det: "Detection | None", kappa: float | None,
            likert: "LikertResult | None", unit: str) -> float | None:
    metric = criterion.metric or ""
    if metric == "fleiss_kappa":
        return kappa
    if metric.startswith("likert_"):
        if likert is None:
            return None
        if unit == "pooled":
            real, synthetic = likert.by_truth["real"]["mean"], likert.by_truth["synthetic"]["mean"]
        else:
            means = likert.by_reader.get(unit, {})
            real, synthetic = means.get("real"), means.get("synthetic")
        if metric == "likert_mean_real":
            return real
        if metric == "likert_mean_synthetic":
            return synthetic
        return None if real is None or synthetic is None else synthetic - real
    if det is None:
        return None
    value: Any = {"accuracy": det.accuracy.value, "accuracy_ci_low": det.accuracy.ci_low,
                  "accuracy_ci_high": det.accuracy.ci_high, "accuracy_p_value": det.p_value,
                  "sensitivity": det.sensitivity.value, "specificity": det.specificity.value,
                  "auc": det.auc}[metric]
    return value


def _within(criterion: Criterion, value: float) -> bool:
    if criterion.minimum is not None and value < criterion.minimum:
        return False
    if criterion.maximum is not None and value > criterion.maximum:
        return False
    return True

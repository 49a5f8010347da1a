"""Reader-study statistics against hand-computed values, published examples, SciPy and scikit-learn."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score

from medsynth.reading.analysis import Reading, analyze_readings
from medsynth.reading.statistics import (binomial_test, fleiss_kappa, icc_2_1, krippendorff_alpha,
                                         likert_summary, proportion, roc_auc, roc_curve, wilson_interval)
from medsynth.reading.study import parse_study

# --- Wilson interval -----------------------------------------------------------------------


def test_wilson_interval_matches_hand_computation_and_scipy():
    # By hand, z = 1.959964: centre = (0.8 + z²/20) / (1 + z²/10) = 0.716740,
    # half = z / (1 + z²/10) * sqrt(0.8*0.2/10 + z²/400) = 0.226578.
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-6)
    assert high == pytest.approx(0.943318, abs=1e-6)
    for k, n in [(0, 10), (3, 7), (50, 100), (99, 100), (12, 12), (1, 1)]:
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_interval_at_zero_successes_is_zero_to_0_2775():
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12)
    assert high == pytest.approx(0.277533, abs=1e-6)


def test_proportion_without_data_is_undefined_not_zero():
    empty = proportion(0, 0)
    assert empty.value is None and empty.ci_low is None and empty.ci_high is None
    with pytest.raises(ValueError):
        wilson_interval(0, 0)

# --- exact binomial test -------------------------------------------------------------------


def test_binomial_test_hand_values():
    assert binomial_test(9, 10) == pytest.approx(22 / 1024, rel=1e-12)      # 2 * (C(10,9) + C(10,10)) / 2^10
    assert binomial_test(5, 10) == 1.0
    # 2 * sum_{i<=7} C(20, i) / 2^20 = 2 * 137980 / 1048576
    assert binomial_test(7, 20) == pytest.approx(2 * 137980 / 2**20, rel=1e-12)
    assert binomial_test(0, 5) == pytest.approx(2 / 32, rel=1e-12)


@pytest.mark.parametrize("p", [0.5, 0.3, 0.77])
def test_binomial_test_matches_scipy_on_a_grid(p):
    for n in range(1, 41):
        for k in range(n + 1):
            assert binomial_test(k, n, p) == pytest.approx(binomtest(k, n, p).pvalue, rel=1e-9, abs=1e-15), (k, n, p)


def test_binomial_test_large_n_matches_scipy():
    for k in (480, 530, 560):
        assert binomial_test(k, 1000) == pytest.approx(binomtest(k, 1000).pvalue, rel=1e-7)

# --- ROC AUC -------------------------------------------------------------------------------


def test_roc_auc_hand_example_with_a_tie():
    # positives 3, 1, -2 vs negatives -1, 1, -3: pairs won 3 + 2.5 + 1 = 6.5 of 9.
    labels = [True, True, True, False, False, False]
    scores = [3, 1, -2, -1, 1, -3]
    assert roc_auc(labels, scores) == pytest.approx(6.5 / 9)


def test_roc_auc_matches_sklearn_with_many_ties():
    rng = np.random.default_rng(3)
    for _ in range(20):
        labels = rng.random(60) < 0.5
        scores = np.where(rng.random(60) < 0.5, 1, -1) * rng.integers(1, 6, 60) + labels
        assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_roc_auc_undefined_with_one_class_and_curve_endpoints():
    assert roc_auc([True, True], [1, 2]) is None
    curve = roc_curve([True, False, True, False], [5, -1, 2, 3])
    assert curve[0] == (0.0, 0.0) and curve[-1] == (1.0, 1.0)
    fpr = [p[0] for p in curve]
    assert fpr == sorted(fpr)
    # trapezoid area under the plotted curve equals the rank AUC
    area = sum((x2 - x1) * (y1 + y2) / 2 for (x1, y1), (x2, y2) in zip(curve, curve[1:]))
    assert area == pytest.approx(roc_auc([True, False, True, False], [5, -1, 2, 3]))

# --- Fleiss' kappa -------------------------------------------------------------------------


def test_fleiss_kappa_hand_example():
    # items [2,0], [0,2], [1,1]: P = (1 + 1 + 0)/3 = 2/3, Pe = 0.5^2 + 0.5^2 = 0.5 -> kappa = 1/3
    assert fleiss_kappa([[2, 0], [0, 2], [1, 1]]) == pytest.approx(1 / 3)


def test_fleiss_kappa_published_example():
    # Fleiss (1971) as worked on Wikipedia: 10 items, 14 raters, 5 categories; kappa = 0.210.
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert round(fleiss_kappa(table), 3) == 0.210


def test_fleiss_kappa_perfect_agreement_and_degenerate_cases():
    assert fleiss_kappa([[3, 0], [0, 3], [3, 0]]) == pytest.approx(1.0)
    assert fleiss_kappa([[3, 0], [3, 0]]) is None  # everyone always says the same: undefined
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 0], [1, 0]])  # unequal raters per item

# --- ICC(2,1) ------------------------------------------------------------------------------


def test_icc_2_1_hand_example():
    # [[1,2],[3,3],[5,6]]: MSR = 49/6, MSC = 2/3, MSE = 1/6 -> (MSR-MSE)/(MSR+MSE+2(MSC-MSE)/3) = 12/13
    assert icc_2_1([[1, 2], [3, 3], [5, 6]]) == pytest.approx(12 / 13)


def test_icc_2_1_shrout_fleiss_example():
    # Shrout & Fleiss (1979) Table 2: ICC(2,1) = .29
    data = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    assert round(icc_2_1(data), 2) == 0.29


def test_icc_undefined_for_too_little_data():
    assert icc_2_1([[1, 2]]) is None
    assert icc_2_1([[3, 3], [3, 3]]) is None

# --- Krippendorff's alpha ------------------------------------------------------------------


def test_krippendorff_alpha_hand_nominal_example():
    # units [1,1], [2,2], [1,2]: o12 + o21 = 2, n1 = n2 = 3, n = 6 -> alpha = 1 - 5*2/(3*3*2) = 4/9
    assert krippendorff_alpha([[1, 2, 1], [1, 2, 2]], "nominal") == pytest.approx(4 / 9)


def test_krippendorff_alpha_published_example_with_missing_values():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units.
    n = None
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
            [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]]
    assert round(krippendorff_alpha(data, "nominal"), 3) == 0.743
    assert round(krippendorff_alpha(data, "ordinal"), 3) == 0.815
    assert round(krippendorff_alpha(data, "interval"), 3) == 0.849


def test_krippendorff_alpha_perfect_and_undefined():
    assert krippendorff_alpha([[1, 2, 3], [1, 2, 3]], "ordinal") == pytest.approx(1.0)
    assert krippendorff_alpha([[4, 4], [4, 4]], "ordinal") is None

# --- Likert summary ------------------------------------------------------------------------


def test_likert_summary_hand_values():
    summary = likert_summary([1, 2, 2, 5], 1, 5)
    assert summary["n"] == 4
    assert summary["mean"] == pytest.approx(2.5)
    assert summary["sd"] == pytest.approx(math.sqrt(3))  # squares 2.25+0.25+0.25+6.25 = 9, / 3
    assert summary["median"] == 2
    assert summary["counts"] == {1: 1, 2: 2, 3: 0, 4: 0, 5: 1}

# --- a whole known answer set ---------------------------------------------------------------

# case -> (truth, generator); reader -> case -> (call, confidence, realism)
TRUTH = {"R1": ("real", None), "R2": ("real", None), "R3": ("real", None),
         "S1": ("synthetic", "genA"), "S2": ("synthetic", "genA"), "S3": ("synthetic", "genB")}
ANSWERS = {
    "a": {"R1": ("real", 5, 4), "R2": ("real", 3, 5), "R3": ("synthetic", 2, 3),
          "S1": ("synthetic", 4, 2), "S2": ("real", 1, 4), "S3": ("synthetic", 5, 1)},
    "b": {"R1": ("real", 4, 5), "R2": ("synthetic", 3, 4), "R3": ("synthetic", 1, 3),
          "S1": ("synthetic", 5, 2), "S2": ("synthetic", 2, 3), "S3": ("synthetic", 4, 2)},
}


def _known_study(acceptance: list) -> object:
    cases = [{"id": case, "image": f"{case}.nii.gz", "truth": truth, **({"generator": g} if g else {})}
             for case, (truth, g) in TRUTH.items()]
    return parse_study({"study_id": "known", "cases": cases, "readers": ["a", "b"], "acceptance": acceptance,
                        "questions": [{"id": "call", "type": "real_or_synthetic"},
                                      {"id": "realism", "type": "likert"}]},
                       base_dir=Path("/nonexistent"), check_images=False)


def _known_readings(readers=("a", "b")) -> list[Reading]:
    return [Reading(reader, case, TRUTH[case][0], TRUTH[case][1], call, confidence, {"realism": realism})
            for reader in readers for case, (call, confidence, realism) in ANSWERS[reader].items()]


def test_known_answer_set_detection_statistics():
    analysis = analyze_readings(_known_readings(), _known_study([]))
    a, b = analysis.readers
    assert (a.detection.accuracy.successes, a.detection.accuracy.n) == (4, 6)
    assert (a.detection.sensitivity.successes, a.detection.specificity.successes) == (2, 2)
    assert (b.detection.sensitivity.successes, b.detection.specificity.successes) == (3, 1)
    pooled = analysis.pooled
    assert (pooled.accuracy.successes, pooled.accuracy.n) == (8, 12)
    # 2 * (C(12,8)+C(12,9)+C(12,10)+C(12,11)+C(12,12)) / 2^12 = 1588/4096
    assert pooled.p_value == pytest.approx(1588 / 4096, rel=1e-12)
    assert pooled.p_value == pytest.approx(binomtest(8, 12).pvalue, rel=1e-12)
    assert pooled.sensitivity.value == pytest.approx(5 / 6)
    assert pooled.specificity.value == pytest.approx(3 / 6)
    # signed scores: synthetic {4,-1,5,5,2,4} vs real {-5,-3,2,-4,3,1}: 31.5 of 36 pairs
    assert pooled.auc == pytest.approx(31.5 / 36)
    readings = _known_readings()
    assert pooled.auc == pytest.approx(roc_auc_score([r.truth == "synthetic" for r in readings],
                                                     [r.score for r in readings]))
    # Fleiss: P = 4/6, p_real = 1/3, Pe = 5/9 -> kappa = (2/3 - 5/9)/(4/9) = 0.25
    assert analysis.agreement.fleiss_kappa == pytest.approx(0.25)
    assert analysis.agreement.n_cases == 6


def test_known_answer_set_likert_and_generators():
    analysis = analyze_readings(_known_readings(), _known_study([]))
    (realism,) = analysis.likert
    assert realism.by_truth["real"]["mean"] == pytest.approx(24 / 6)
    assert realism.by_truth["synthetic"]["mean"] == pytest.approx(14 / 6)
    assert realism.mean_difference == pytest.approx(14 / 6 - 4)
    table = [[ANSWERS[r][case][2] for r in ("a", "b")] for case in sorted(TRUTH)]
    assert realism.icc_2_1 == pytest.approx(icc_2_1(table))
    assert realism.krippendorff_alpha_ordinal == pytest.approx(
        krippendorff_alpha([[ANSWERS[r][c][2] for c in sorted(TRUTH)] for r in ("a", "b")], "ordinal"))
    gens = {g.generator: g for g in analysis.generators}
    assert (gens["genA"].detected.successes, gens["genA"].detected.n, gens["genA"].n_cases) == (3, 4, 2)
    assert (gens["genB"].detected.successes, gens["genB"].detected.n) == (2, 2)
    assert gens["genA"].likert_means["realism"] == pytest.approx((2 + 4 + 2 + 3) / 4)


def test_verdicts_against_acceptance_criteria():
    chance = {"type": "accuracy_not_above_chance", "scope": "pooled", "alpha": 0.05}
    assert analyze_readings(_known_readings(), _known_study([chance])).verdict == "PASS"
    # a 66.7 % reader breaks "every reader <= 60 %", and the realism gap (-1.67) breaks "min -0.5"
    strict = [chance, {"type": "threshold", "metric": "accuracy", "scope": "each_reader", "max": 0.6},
              {"type": "threshold", "metric": "likert_mean_difference", "question": "realism", "min": -0.5}]
    result = analyze_readings(_known_readings(), _known_study(strict))
    assert result.verdict == "FAIL"
    assert [c.passed for c in result.criteria] == [True, False, False]
    assert result.criteria[1].values == pytest.approx({"a": 4 / 6, "b": 4 / 6})
    # kappa needs two readers: with one reader it cannot be evaluated
    kappa = [{"type": "threshold", "metric": "fleiss_kappa", "max": 0.9}]
    assert analyze_readings(_known_readings(("a",)), _known_study(kappa)).verdict == "NOT EVALUABLE"


def test_chance_criterion_fails_when_readers_detect_synthetic_images():
    # 19 of 20 correct: p = 2 * 21 / 2^20, far below 0.05
    truths = ["synthetic", "real"] * 10
    readings = [Reading("a", f"c{i}", t, "g" if t == "synthetic" else None,
                        call=t if i else ("real" if t == "synthetic" else "synthetic"), confidence=3)
                for i, t in enumerate(truths)]
    cases = [{"id": f"c{i}", "image": "x.nii.gz", "truth": t} for i, t in enumerate(truths)]
    study = parse_study({"study_id": "s", "cases": cases,
                         "acceptance": [{"type": "accuracy_not_above_chance", "alpha": 0.05}]},
                        check_images=False)
    result = analyze_readings(readings, study)
    assert result.pooled.accuracy.successes == 19
    assert result.pooled.p_value == pytest.approx(2 * 21 / 2**20)
    assert result.verdict == "FAIL"

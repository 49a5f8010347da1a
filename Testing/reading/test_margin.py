"""The margin criterion: hand-computed bounds, the planner, and simulated studies at known accuracy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import t as student_t

from medsynth.reading.analysis import Reading, analyze_readings
from medsynth.reading.margin import (accuracy_upper_bound, complete_table, plan_cases, planned_power,
                                     size_warnings)
from medsynth.reading.study import parse_study
from test_statistics import _known_readings, _known_study

# 3 readers x 4 cases; by hand: mean 0.5, MS_reader 0.25, MS_case 5/9, MS_error 0.8333/6
TABLE = [[1, 1, 0, 0],
         [1, 1, 1, 0],
         [1, 0, 0, 0]]


def test_two_way_bound_against_hand_computation():
    bound = accuracy_upper_bound(TABLE)
    total = 0.25 + 5 / 9 - (0.8333333333 / 6)
    assert bound.accuracy == pytest.approx(0.5)
    assert bound.standard_error == pytest.approx(np.sqrt(total / 12), rel=1e-6)  # 0.235702
    df = total ** 2 / (0.25 ** 2 / 2 + (5 / 9) ** 2 / 3 + (0.8333333333 / 6) ** 2 / 6)
    assert bound.df == pytest.approx(df, rel=1e-6) and bound.df == pytest.approx(3.236, abs=1e-3)
    assert 0.5 + student_t.ppf(0.95, df) * np.sqrt(total / 12) > 1 and bound.upper == 1.0  # capped at 100 %
    assert accuracy_upper_bound(TABLE, 0.8).upper == pytest.approx(0.5 + student_t.ppf(0.8, df) * np.sqrt(total / 12))
    assert (bound.n_readers, bound.n_cases) == (3, 4)


def test_single_reader_bound_and_binomial_floor():
    one = accuracy_upper_bound([[1, 0, 1, 1]])  # MS_case = 0.25 -> SE 0.25, df 3
    assert (one.standard_error, one.df) == pytest.approx((0.25, 3.0))
    assert accuracy_upper_bound([[1, 0, 1, 1]], 0.6).upper == pytest.approx(0.75 + student_t.ppf(0.6, 3) * 0.25)
    # identical readers and cases that all agree: no spread, the binomial floor applies
    flat = accuracy_upper_bound([[1, 0] * 10, [1, 0] * 10])
    assert flat.standard_error >= np.sqrt(0.25 / 40) - 1e-12
    assert accuracy_upper_bound([[1]]) is None


def test_complete_table_keeps_only_cases_every_reader_called():
    readers, cases, table = complete_table({"a": {"c1": True, "c2": False, "c3": True},
                                            "b": {"c1": False, "c3": True}, "c": {}})
    assert readers == ["a", "b"] and cases == ["c1", "c3"]
    assert table.tolist() == [[1.0, 1.0], [0.0, 1.0]]


def test_planner_gives_the_smallest_sufficient_study():
    n = plan_cases(0.6, 5, 0.5)
    assert planned_power(n, 5, 0.6, 0.5) >= 0.8 > planned_power(n - 1, 5, 0.6, 0.5)
    # hand: one reader, within = 0.25 - 0.05^2 - 0.15^2 = 0.225, MS_case = 0.2475
    se = np.sqrt(0.2475 / 155)
    assert planned_power(155, 1) == pytest.approx(student_t.cdf(0.1 / se - student_t.ppf(0.95, 154), 154))
    assert plan_cases(0.6, 1, 0.5) == 155
    assert plan_cases(0.6, 10, 0.5) < plan_cases(0.6, 5, 0.5)  # more readers, fewer cases
    assert plan_cases(0.6, 3, 0.5) is None  # reader spread alone too large for 3 readers
    with pytest.raises(ValueError):
        plan_cases(0.5, 3, 0.55)


def _simulate(rng, accuracy, readers, cases, reader_sd=0.05, case_sd=0.15):
    p = accuracy + rng.normal(0, reader_sd, (readers, 1)) + rng.normal(0, case_sd, (1, cases))
    return (rng.random((readers, cases)) < np.clip(p, 0, 1)).astype(float)


@pytest.mark.parametrize("readers,expected", [(5, 0.5), (3, 0.45)])
def test_simulated_studies_coverage_type_one_error_and_power(readers, expected):
    """Studies simulated from the planning model: the bound covers the truth >= 92 % of the time,
    passes a generator at the margin <= 8 % of the time, and at the planned size has 70-90 % power."""
    rng = np.random.default_rng(20261204 + readers)
    n = plan_cases(0.6, readers, expected)
    runs = 400
    uppers = np.array([accuracy_upper_bound(_simulate(rng, expected, readers, n)).upper for _ in range(runs)])
    at_margin = np.array([accuracy_upper_bound(_simulate(rng, 0.6, readers, n)).upper for _ in range(runs)])
    coverage, power, type_one = np.mean(uppers >= expected), np.mean(uppers < 0.6), np.mean(at_margin < 0.6)
    print(f"readers {readers}, cases {n}: coverage {coverage:.3f}, power {power:.3f}, type-I {type_one:.3f}")
    assert coverage >= 0.92
    assert 0.7 <= power <= 0.9
    assert type_one <= 0.08


def test_small_study_passes_the_old_criterion_but_not_the_margin():
    """The issue's example: 8 of 12 correct passes 'not above chance' (p = 0.39) but shows nothing."""
    chance = {"type": "accuracy_not_above_chance"}
    margin = {"type": "accuracy_below_margin", "margin": 0.6}
    result = analyze_readings(_known_readings(), _known_study([chance, margin]))
    assert [c.passed for c in result.criteria] == [True, False]
    assert result.verdict == "FAIL"
    assert result.criteria[1].values["pooled"] == pytest.approx(accuracy_upper_bound(
        [[1, 1, 0, 1, 0, 1], [1, 0, 0, 1, 1, 1]]).upper)


def test_large_study_at_chance_passes_the_margin():
    rng = np.random.default_rng(7)
    truths = ["real", "synthetic"] * 60
    readings = [Reading(reader, f"c{i}", t, None if t == "real" else "g",
                        call=t if rng.random() < 0.5 else ("real" if t == "synthetic" else "synthetic"))
                for reader in ("a", "b", "c", "d", "e", "f") for i, t in enumerate(truths)]
    cases = [{"id": f"c{i}", "image": "x.nii.gz", "truth": t} for i, t in enumerate(truths)]
    study = parse_study({"study_id": "big", "cases": cases, "readers": list("abcdef"),
                         "acceptance": [{"type": "accuracy_below_margin"}]}, check_images=False)
    result = analyze_readings(readings, study)
    assert result.verdict == "PASS", result.criteria[0].detail
    assert result.criteria[0].values["pooled"] < 0.6
    assert size_warnings(study) == []
    small = parse_study({"study_id": "small", "cases": cases[:20], "readers": list("abcdef"),
                         "acceptance": [{"type": "accuracy_below_margin"}]}, check_images=False)
    assert "20 cases" in size_warnings(small)[0]


def test_margin_criterion_is_validated():
    from medsynth.reading.errors import StudyError

    with pytest.raises(StudyError, match="margin"):
        parse_study({"study_id": "s", "cases": [{"id": "c", "image": "x.nii.gz", "truth": "real"}],
                     "acceptance": [{"type": "accuracy_below_margin", "margin": 1.5}]}, check_images=False)


def test_plan_command_prints_cases():
    run = subprocess.run([sys.executable, "-m", "medsynth", "reading", "plan", "--margin", "0.6", "--readers", "5"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"{plan_cases(0.6, 5, 0.5)} cases for 80% power")
    few = subprocess.run([sys.executable, "-m", "medsynth", "reading", "plan", "--readers", "3"],
                         capture_output=True, text=True)
    assert few.returncode == 1 and "4 readers would do it" in few.stdout
    bad = subprocess.run([sys.executable, "-m", "medsynth", "reading", "plan", "--readers", "3", "--margin", "0.4"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr

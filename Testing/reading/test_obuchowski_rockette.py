"""Obuchowski–Rockette reader-averaged AUC: against the published OR-DBM MRMC output for the Van Dyke
data, against a brute-force jackknife, and on studies whose answer follows from how they are built."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t as student_t

from medsynth.reading.obuchowski_rockette import (CAN_TELL, CANNOT_TELL, INCONCLUSIVE, jackknife_aucs,
                                                  jackknife_covariance, obuchowski_rockette)
from medsynth.reading.statistics import roc_auc

VAN_DYKE = Path(__file__).resolve().parents[1] / "data" / "vandyke_roc_treatment1.csv"


def _van_dyke() -> tuple[list[bool], np.ndarray]:
    with VAN_DYKE.open() as handle:
        rows = list(csv.DictReader(handle))
    labels = [row["abnormal"] == "1" for row in rows]
    return labels, np.array([[float(row[f"reader{j}"]) for row in rows] for j in range(1, 6)])


def test_van_dyke_treatment_1_matches_or_dbm_mrmc():
    """OR-DBM MRMC 2.51 (jackknife covariances), 'VanDyke1T' run (Testing/data/README.md):
    5 readers, 69 normal + 45 abnormal cases. Readers 1, 3, 4, 5 are checked on the data as
    distributed; the run analysed a copy in which one of reader 2's abnormal cases rated 5 was
    rated 4 (any one of them gives this same output), so reader 2 and the pooled figures are
    checked after that one change."""
    labels, scores = _van_dyke()
    as_distributed = obuchowski_rockette(labels, scores)
    variances = np.diag(jackknife_covariance(jackknife_aucs(labels, scores)[1]))
    for j, auc, var in [(0, 0.91964573, 0.00090755), (2, 0.90386473, 0.00079859),
                        (3, 0.97310789, 0.00030064), (4, 0.82979066, 0.00174057)]:
        assert as_distributed.reader_aucs[j] == pytest.approx(auc, abs=5e-9)
        assert variances[j] == pytest.approx(var, abs=5e-9)

    first_five = next(k for k, (abnormal, rating) in enumerate(zip(labels, scores[1])) if abnormal and rating == 5)
    scores[1, first_five] = 4
    result = obuchowski_rockette(labels, scores)
    assert result.reader_aucs[1] == pytest.approx(0.85877617, abs=5e-9)
    assert result.auc == pytest.approx(0.89703704, abs=5e-9)
    assert result.ms_reader == pytest.approx(0.00308263, abs=5e-9)
    assert result.cov2 == pytest.approx(0.00048396, abs=5e-9)
    assert result.var_error == pytest.approx(0.00101410, abs=5e-9)
    assert result.standard_error == pytest.approx(0.03317360, abs=5e-9)
    assert result.df == pytest.approx(12.74, abs=5e-3)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.82522360, 0.96885048), abs=5e-9)
    assert (result.n_real, result.n_synthetic) == (69, 45)
    assert result.finding == CAN_TELL and not result.reader_floor


def test_jackknife_equals_recomputing_each_auc_without_the_case():
    """The closed-form leave-one-out AUCs and the covariance against a literal jackknife."""
    rng = np.random.default_rng(3)
    labels = [True] * 7 + [False] * 9
    scores = rng.integers(1, 6, (3, 16)).astype(float)  # many ties on a 1-5 scale
    aucs, loo = jackknife_aucs(labels, scores)
    for j in range(3):
        assert aucs[j] == pytest.approx(roc_auc(labels, scores[j]))
        for k in range(16):
            keep = [i for i in range(16) if i != k]
            assert loo[j, k] == pytest.approx(roc_auc([labels[i] for i in keep], scores[j, keep]))
    literal = np.array([[(15 / 16) * sum((loo[a, k] - loo[a].mean()) * (loo[b, k] - loo[b].mean())
                                         for k in range(16)) for b in range(3)] for a in range(3)])
    assert jackknife_covariance(loo) == pytest.approx(literal)


def test_interval_is_hillis_single_test_formula():
    rng = np.random.default_rng(11)
    labels = [True] * 20 + [False] * 20
    scores = np.array(labels, dtype=float)[None, :] * 0.7 + rng.normal(0, 1, (4, 40))
    result = obuchowski_rockette(labels, scores, confidence=0.9)
    assert not result.reader_floor
    aucs, loo = jackknife_aucs(labels, scores)
    cov = jackknife_covariance(loo)
    ms_r = np.var(aucs, ddof=1)
    cov2 = (cov.sum() - np.trace(cov)) / 12
    se = np.sqrt(ms_r / 4 + max(cov2, 0))
    df = (ms_r + 4 * max(cov2, 0)) ** 2 / (ms_r ** 2 / 3)
    assert (result.standard_error, result.df) == pytest.approx((se, df))
    assert result.ci_low == pytest.approx(aucs.mean() - student_t.ppf(0.95, df) * se)
    assert result.upper == pytest.approx(aucs.mean() + student_t.ppf(0.9, df) * se)


def test_single_reader_is_fixed_reader_random_cases():
    labels = [True, True, True, False, False, False]
    result = obuchowski_rockette(labels, [[3, 2, 1, 2, 1, 0]], readers=["only"])
    assert result.readers == ["only"] and result.df is None and result.ms_reader is None
    assert result.standard_error == pytest.approx(np.sqrt(result.var_error))


def test_perfect_readers_have_auc_one_and_can_tell():
    labels = [True] * 10 + [False] * 10
    scores = [[5 - (i % 3) if label else -1 - (i % 4) for i, label in enumerate(labels)] for _ in range(3)]
    result = obuchowski_rockette(labels, scores)
    assert result.reader_aucs == [1.0, 1.0, 1.0] and result.auc == 1.0
    assert result.finding == CAN_TELL and "can tell" in result.statement
    assert result.standard_error == 0 and result.ci_low == 1.0


def test_readers_whose_ratings_ignore_the_truth_cover_one_half():
    """Each reader gives a synthetic case exactly the score they give its real partner, so every
    reader's AUC is 0.5 by construction and the interval must contain it. The readers then agree
    exactly (MS(R) = 0): the interval keeps the case variance (fixed-reader floor), not a point."""
    rng = np.random.default_rng(5)
    labels = [True] * 30 + [False] * 30
    for _ in range(20):
        half = rng.integers(-5, 6, (4, 30)).astype(float)
        result = obuchowski_rockette(labels, np.hstack([half, half]))
        assert result.reader_aucs == pytest.approx([0.5] * 4)
        assert result.ci_low < 0.5 < result.ci_high
        assert result.finding != CAN_TELL
        assert result.reader_floor and result.standard_error == pytest.approx(
            np.sqrt((result.var_error + 3 * max(result.cov2, 0)) / 4))


def test_random_readers_coverage_and_the_bound_against_the_margin():
    """Readers rating at random: the 95 % interval covers 0.5 in >= 92 % of simulated studies; a
    large study of such readers shows "cannot tell beyond 0.6", a small one is inconclusive."""
    rng = np.random.default_rng(2026)
    labels = [True] * 25 + [False] * 25
    covered = [obuchowski_rockette(labels, rng.integers(-5, 6, (4, 50))).ci_low < 0.5 for _ in range(300)]
    assert np.mean(covered) >= 0.92
    big = [True] * 200 + [False] * 200
    assert obuchowski_rockette(big, rng.integers(-5, 6, (6, 400))).finding == CANNOT_TELL
    small = obuchowski_rockette([True] * 4 + [False] * 4, [[1, -1, 2, -2, 1, -1, -2, 2], [3, 1, -3, 2, 1, 3, -3, 2]])
    assert small.finding == INCONCLUSIVE and "inconclusive" in small.statement


def test_too_few_cases_of_a_class_is_refused():
    with pytest.raises(ValueError, match="two real and two synthetic"):
        obuchowski_rockette([True, False, False], [[1, 0, 0]])


def test_or_interval_equals_dbm_with_normalised_pseudovalues():
    """Hillis et al. 2005/2008: OR with jackknife covariances and DBM on normalised jackknife
    pseudovalues give the same single-test interval. DBM here is computed independently: a
    readers × cases ANOVA of the pseudovalues, SE² = (MS(R) + max(MS(C) - MS(R×C), 0)) / (r K)."""
    rng = np.random.default_rng(8)
    labels = [True] * 15 + [False] * 18
    skill = np.array([0.2, 0.6, 1.0, 1.4, 1.8])[:, None]  # readers differ: MS(R) well above its floor
    scores = np.array(labels, dtype=float)[None, :] * skill + rng.normal(0, 1, (5, 33))
    result = obuchowski_rockette(labels, scores)
    aucs, loo = jackknife_aucs(labels, scores)
    r, k = loo.shape
    pseudo = k * aucs[:, None] - (k - 1) * loo
    pseudo += (aucs - pseudo.mean(axis=1))[:, None]  # normalised: each reader's mean pseudovalue is its AUC
    grand, by_reader, by_case = pseudo.mean(), pseudo.mean(axis=1), pseudo.mean(axis=0)
    ms_r = k * np.sum((by_reader - grand) ** 2) / (r - 1)
    ms_c = r * np.sum((by_case - grand) ** 2) / (k - 1)
    ms_rc = np.sum((pseudo - by_reader[:, None] - by_case[None, :] + grand) ** 2) / ((r - 1) * (k - 1))
    se = np.sqrt((ms_r + max(ms_c - ms_rc, 0)) / (r * k))
    df = (ms_r + max(ms_c - ms_rc, 0)) ** 2 / (ms_r ** 2 / (r - 1))
    assert not result.reader_floor
    assert (result.standard_error, result.df) == pytest.approx((se, df), rel=1e-9)

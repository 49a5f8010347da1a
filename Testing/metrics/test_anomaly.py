"""Anomaly-map metrics against hand-computed cases, brute force, and scikit-learn (test-only)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk
from sklearn.metrics import average_precision_score, roc_auc_score

from medsynth.errors import InputError
from medsynth.metrics.anomaly import (
    dice_at_threshold,
    dice_upper_bound,
    evaluate_anomaly_maps,
    scan_average_precision,
    validation_threshold,
    voxel_auprc,
    voxel_auroc,
)


def _case(shape=(10, 12, 14), seed=0, decimals=None):
    """A score map correlated with a blob label, plus a region covering most of the volume."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, dtype=np.uint8)
    labels[3:6, 4:8, 5:10] = 1
    scores = rng.normal(0, 1, shape) + 1.5 * labels
    if decimals is not None:
        scores = np.round(scores, decimals)  # many ties
    region = np.ones(shape, dtype=np.uint8)
    region[:, :, :2] = 0
    return scores.astype(np.float32), labels, region


def _brute_force_best_dice(scores, labels):
    best, best_t = 0.0, math.inf
    for t in np.unique(scores)[::-1]:
        pred = scores >= t
        d = 2 * np.sum(pred & labels) / (pred.sum() + labels.sum())
        if d > best:
            best, best_t = d, t
    return best, best_t


def test_tiny_case_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    labels = np.array([1, 0, 1, 0])
    # positive/negative pairs ranked correctly: (0.9>0.8), (0.9>0.6), (0.7>0.6); wrong: (0.7<0.8)
    assert voxel_auroc(scores, labels) == pytest.approx(3 / 4)
    # thresholds 0.9: P=1, R=1/2; 0.8: P=1/2, R=1/2; 0.7: P=2/3, R=1; 0.6: R unchanged
    assert voxel_auprc(scores, labels) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # Dice at 0.9: 2*1/(1+2); at 0.8: 2*1/(2+2); at 0.7: 2*2/(3+2) = 0.8; at 0.6: 4/6
    best = dice_upper_bound(scores, labels)
    assert best.dice == pytest.approx(0.8) and best.threshold == pytest.approx(0.7)
    assert dice_at_threshold(scores, labels, 0.85) == pytest.approx(2 / 3)


def test_ties_count_one_half():
    assert voxel_auroc(np.array([0.5, 0.5]), np.array([1, 0])) == pytest.approx(0.5)
    assert voxel_auroc(np.array([0.5, 0.5, 0.2]), np.array([1, 0, 0])) == pytest.approx(0.75)


@pytest.mark.parametrize("decimals", [None, 1])
def test_auroc_and_auprc_match_sklearn(decimals):
    scores, labels, region = _case(seed=1, decimals=decimals)
    inside = region > 0
    assert voxel_auroc(scores, labels, region) == pytest.approx(roc_auc_score(labels[inside], scores[inside]), abs=1e-12)
    assert voxel_auprc(scores, labels, region) == pytest.approx(
        average_precision_score(labels[inside], scores[inside]), abs=1e-12
    )


def test_pooling_cases_equals_concatenating_their_region_voxels():
    cases = [_case(seed=s, decimals=2) for s in (2, 3, 4)]
    scores = [c[0] for c in cases]
    labels = [c[1] for c in cases]
    regions = [c[2] for c in cases]
    flat_s = np.concatenate([s[r > 0] for s, r in zip(scores, regions)])
    flat_y = np.concatenate([y[r > 0] for y, r in zip(labels, regions)])
    result = evaluate_anomaly_maps(scores, labels, regions, threshold=0.8)
    assert result.auroc == pytest.approx(roc_auc_score(flat_y, flat_s), abs=1e-12)
    assert result.auprc == pytest.approx(average_precision_score(flat_y, flat_s), abs=1e-12)
    best, best_t = _brute_force_best_dice(flat_s, flat_y > 0)
    assert result.dice_upper_bound == pytest.approx(best) and result.dice_upper_bound_threshold == pytest.approx(best_t)
    pred = flat_s >= 0.8
    assert result.dice_at_threshold == pytest.approx(2 * np.sum(pred & (flat_y > 0)) / (pred.sum() + flat_y.sum()))
    assert result.n_voxels == flat_s.size and result.n_anomalous == int(flat_y.sum())


def test_dice_upper_bound_matches_brute_force_over_all_thresholds():
    scores, labels, _ = _case(seed=5, decimals=1)
    best, best_t = _brute_force_best_dice(scores, labels > 0)
    result = dice_upper_bound(scores, labels)
    assert result.dice == pytest.approx(best)
    assert result.threshold == pytest.approx(best_t)


def test_validation_threshold_is_applied_unchanged_to_the_test_split():
    val = [_case(seed=s) for s in (6, 7)]
    test_scores, test_labels, test_region = _case(seed=8)
    t = validation_threshold([v[0] for v in val], [v[1] for v in val], [v[2] for v in val])
    pooled_s = np.concatenate([v[0][v[2] > 0] for v in val])
    pooled_y = np.concatenate([v[1][v[2] > 0] for v in val]) > 0
    assert t == pytest.approx(_brute_force_best_dice(pooled_s, pooled_y)[1])
    inside = test_region > 0
    pred = test_scores[inside] >= t
    truth = test_labels[inside] > 0
    expected = 2 * np.sum(pred & truth) / (pred.sum() + truth.sum())
    assert dice_at_threshold(test_scores, test_labels, t, test_region) == pytest.approx(expected)
    # the fair Dice cannot beat the upper bound on the same test data
    assert dice_at_threshold(test_scores, test_labels, t, test_region) <= dice_upper_bound(
        test_scores, test_labels, test_region
    ).dice + 1e-12


def test_voxels_outside_the_region_are_ignored():
    scores, labels, region = _case(seed=9)
    noisy = scores.copy()
    noisy[region == 0] = 100.0  # would be false alarms if counted
    assert voxel_auroc(noisy, labels, region) == voxel_auroc(scores, labels, region)
    assert voxel_auprc(noisy, labels, region) == voxel_auprc(scores, labels, region)
    assert dice_upper_bound(noisy, labels, region) == dice_upper_bound(scores, labels, region)
    assert voxel_auroc(noisy, labels) < voxel_auroc(scores, labels)


def test_perfect_and_inverted_maps():
    _, labels, _ = _case(seed=10)
    perfect = labels.astype(float)
    assert voxel_auroc(perfect, labels) == 1.0
    assert voxel_auprc(perfect, labels) == 1.0
    assert dice_upper_bound(perfect, labels).dice == 1.0
    assert voxel_auroc(-perfect, labels) == 0.0
    assert voxel_auprc(-perfect, labels) == pytest.approx(labels.mean())  # chance = prevalence


def test_scan_average_precision_matches_sklearn():
    rng = np.random.default_rng(11)
    has_artefact = rng.integers(0, 2, 40)
    scan_scores = rng.normal(0, 1, 40) + has_artefact
    assert scan_average_precision(scan_scores, has_artefact) == pytest.approx(
        average_precision_score(has_artefact, scan_scores), abs=1e-12
    )
    assert scan_average_precision([0.2, 0.9, 0.4], [False, True, False]) == 1.0


def test_simpleitk_images_are_accepted_and_grids_checked():
    scores, labels, region = _case(seed=12)
    s_img, y_img = sitk.GetImageFromArray(scores), sitk.GetImageFromArray(labels)
    assert voxel_auroc(s_img, y_img) == voxel_auroc(scores, labels)
    y_img.SetOrigin((0.0, 0.0, 10.0))
    with pytest.raises(InputError, match="[Rr]esample"):
        voxel_auroc(s_img, y_img)


def test_undefined_metrics_raise_clear_errors():
    scores, labels, _ = _case(seed=13)
    with pytest.raises(InputError, match="No anomalous voxel"):
        voxel_auroc(scores, np.zeros_like(labels))
    with pytest.raises(InputError, match="No anomalous voxel"):
        dice_upper_bound(scores, np.zeros_like(labels))
    with pytest.raises(InputError, match="normal"):
        voxel_auroc(scores, np.ones_like(labels))
    with pytest.raises(InputError, match="same shape"):
        voxel_auprc(scores, labels[:-1])
    with pytest.raises(InputError, match="one of each per case"):
        voxel_auprc([scores, scores], [labels])
    with pytest.raises(InputError, match="region is empty"):
        voxel_auprc(scores, labels, np.zeros_like(labels))
    with pytest.raises(InputError, match="NaN"):
        voxel_auroc(np.full(scores.shape, np.nan), labels)
    with pytest.raises(InputError, match="0/1"):
        scan_average_precision([0.1, 0.2], [0, 2])


def test_dice_at_threshold_on_a_clean_scan():
    scores = np.array([0.1, 0.2, 0.3])
    clean = np.zeros(3)
    assert math.isnan(dice_at_threshold(scores, clean, 0.5))  # nothing to find, nothing found
    assert dice_at_threshold(scores, clean, 0.25) == 0.0  # false alarm


def test_large_volume_matches_sklearn():
    rng = np.random.default_rng(14)
    n = 400_000
    labels = rng.random(n) < 0.02
    scores = (rng.normal(0, 1, n) + labels).astype(np.float32)
    scores = np.round(scores, 3)
    result = evaluate_anomaly_maps(scores, labels)
    assert result.auroc == pytest.approx(roc_auc_score(labels, scores), abs=1e-9)
    assert result.auprc == pytest.approx(average_precision_score(labels, scores), abs=1e-9)


def test_findings_against_reference_counts_touching_and_false_findings():
    """Finding 1 covers half of a 2-voxel reference, finding 2 lies elsewhere, finding 3 covers the
    other half: Dice 2·2/(3 + 2), both touching findings detected, one false finding."""
    from medsynth.metrics.anomaly import findings_against_reference

    labels = np.zeros((6, 6), int)
    labels[0, 0], labels[5, 5], labels[0, 1] = 1, 2, 3
    reference = np.zeros((6, 6), bool)
    reference[0, 0] = reference[0, 1] = True
    agreement = findings_against_reference(labels, reference)
    assert agreement.touching == {1, 3} and agreement.false_findings == 1 and agreement.detected
    assert agreement.dice == pytest.approx(4 / 5)
    none = findings_against_reference(np.zeros((6, 6), int), reference)
    assert not none.detected and none.false_findings == 0 and none.dice == 0.0

"""Metrics for anomaly heatmaps: voxel AUROC, AUPRC, Dice over thresholds, scan-level AP.

An anomaly map gives every voxel a score (higher = more anomalous); the ground truth is a binary
label volume (lesion, tumour, artefact). All voxel metrics are computed over an **evaluation
region** (``region``, e.g. the brain mask; ``None`` = the whole volume): voxels outside it are
ignored entirely. Several cases are pooled by passing lists (every voxel of every case counts
once), which is how the anomaly-segmentation literature reports AUROC, AUPRC and Dice.

Conventions, identical to scikit-learn's so results can be compared with published numbers:

* a voxel is called anomalous at threshold t when ``score >= t``;
* AUROC is the trapezoidal area under the ROC curve (ties between a positive and a negative
  voxel count one half);
* AUPRC is the *average precision* ``sum_k (R_k - R_{k-1}) P_k`` over the distinct score values
  from high to low (a step function, not the optimistic trapezoid), as
  ``sklearn.metrics.average_precision_score``.

Every curve comes from one sort of the scores and cumulative sums: 10^7 voxels take a few seconds
on one core (the sort dominates; float32 scores sort faster than float64).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np

from medsynth.errors import InputError
from medsynth.metrics._inputs import ArrayOrImage, require_finite, to_arrays

#: One case (array or image) or several cases to pool (a list or tuple of them).
Cases = Union[ArrayOrImage, Sequence[ArrayOrImage]]


@dataclass(frozen=True)
class DiceAtThreshold:
    """A Dice score (unitless, [0, 1]) and the score threshold it was obtained at (``score >= threshold``)."""

    dice: float
    threshold: float


@dataclass(frozen=True)
class VoxelAnomalyMetrics:
    """Voxel-level metrics of anomaly maps against labels, over an evaluation region.

    ``dice_upper_bound`` is the best Dice over all thresholds, with the threshold chosen on the same
    data: an optimistic **upper bound**, not an achievable score; report ``dice_at_threshold``
    (threshold fixed beforehand, e.g. by :func:`validation_threshold`) as the fair number.
    """

    auroc: float
    auprc: float
    dice_upper_bound: float
    dice_upper_bound_threshold: float
    dice_at_threshold: float | None
    threshold: float | None
    n_voxels: int
    n_anomalous: int


@dataclass(frozen=True)
class _RankedCounts:
    """Cumulative counts at each distinct score value, from the highest score down."""

    thresholds: np.ndarray  # distinct scores, decreasing
    true_positives: np.ndarray  # voxels with score >= threshold that are anomalous
    false_positives: np.ndarray  # voxels with score >= threshold that are not
    n_positive: int
    n_negative: int


# --------------------------------------------------------------------------------------------
# Public metrics


def voxel_auroc(scores: Cases, labels: Cases, region: Cases | None = None) -> float:
    """Area under the voxel ROC curve, in [0, 1]; 0.5 = chance, 1 = every anomalous voxel scores higher.

    Needs at least one anomalous and one normal voxel in the region (else AUROC is undefined).
    """
    return _auroc(_ranked_counts(*_pooled(scores, labels, region), need_negative=True))


def voxel_auprc(scores: Cases, labels: Cases, region: Cases | None = None) -> float:
    """Area under the voxel precision-recall curve as average precision, in [0, 1].

    Chance level equals the fraction of anomalous voxels, so unlike AUROC it stays informative for
    small lesions. Computed as sklearn's ``average_precision_score`` (step-wise, see module doc).
    """
    return _average_precision(_ranked_counts(*_pooled(scores, labels, region)))


def dice_upper_bound(scores: Cases, labels: Cases, region: Cases | None = None) -> DiceAtThreshold:
    """Best Dice over all thresholds ("Dice*"), and the threshold that reaches it.

    An **upper bound**: the threshold is picked by looking at the labels being scored. Ties go to
    the highest threshold. Report it next to, never instead of, a Dice at a threshold fixed on
    validation data (:func:`validation_threshold`, :func:`dice_at_threshold`).
    """
    return _best_dice(_ranked_counts(*_pooled(scores, labels, region)))


def validation_threshold(scores: Cases, labels: Cases, region: Cases | None = None) -> float:
    """The score threshold that maximises Dice on a validation split (cases pooled).

    Apply it unchanged to the test split with :func:`dice_at_threshold`; that Dice is a fair
    estimate, unlike :func:`dice_upper_bound` on the test split.
    """
    return _best_dice(_ranked_counts(*_pooled(scores, labels, region))).threshold


def dice_at_threshold(scores: Cases, labels: Cases, threshold: float, region: Cases | None = None) -> float:
    """Dice (unitless, [0, 1]) of ``score >= threshold`` against the labels, inside the region.

    ``nan`` when neither the labels nor the prediction hold a voxel (Dice is undefined there; a
    scan without anomaly and without false alarm).
    """
    flat_scores, flat_labels = _pooled(scores, labels, region)
    predicted = flat_scores >= threshold
    overlap = int(np.count_nonzero(predicted & flat_labels))
    total = int(np.count_nonzero(predicted)) + int(np.count_nonzero(flat_labels))
    return math.nan if total == 0 else 2.0 * overlap / total


@dataclass(frozen=True)
class FindingsAgainstReference:
    """Findings (a label map, finding id per voxel, 0 = none) judged against a reference outline:
    voxel Dice of all findings, the ids of findings touching the reference, and how many do not."""

    dice: float
    touching: frozenset
    false_findings: int

    @property
    def detected(self) -> bool:
        return bool(self.touching)


def findings_against_reference(finding_labels: np.ndarray, reference: np.ndarray) -> FindingsAgainstReference:
    """Lesion-wise and voxel-wise agreement of a finding label map with a boolean reference outline."""
    labels = np.asarray(finding_labels)
    reference = np.asarray(reference, bool)
    found = labels > 0
    touching = frozenset(int(v) for v in np.unique(labels[found & reference]))
    every = set(int(v) for v in np.unique(labels[found]))
    dice = float(2 * (found & reference).sum() / max(found.sum() + reference.sum(), 1))
    return FindingsAgainstReference(dice, touching, len(every - touching))


def scan_average_precision(scan_scores: Sequence[float] | np.ndarray, scan_labels: Sequence[int] | np.ndarray) -> float:
    """Average precision (as sklearn's) of one score per scan for detecting one artefact type.

    ``scan_labels`` is 1 (or True) for scans that have the artefact, 0 otherwise. Call it once per
    artefact type, with the scans of that type and the clean scans.
    """
    s = np.asarray(scan_scores, dtype=np.float64).ravel()
    y = np.asarray(scan_labels).ravel()
    if s.shape != y.shape:
        raise InputError(f"Got {s.size} scan scores but {y.size} scan labels; give one label per scan.")
    if not np.isin(y, (0, 1)).all():
        raise InputError("Scan labels must be 0/1 (or False/True): 1 = the scan has the artefact.")
    require_finite("scan scores", s)
    return _average_precision(_ranked_counts(s, y.astype(bool)))


def evaluate_anomaly_maps(
    scores: Cases, labels: Cases, region: Cases | None = None, threshold: float | None = None
) -> VoxelAnomalyMetrics:
    """AUROC, AUPRC, Dice upper bound and (given a validation ``threshold``) Dice, with one sort.

    Pass one case or lists of cases (pooled). ``region`` restricts every metric to its voxels
    (``> 0``); say which region you used when you report the numbers.
    """
    flat_scores, flat_labels = _pooled(scores, labels, region)
    counts = _ranked_counts(flat_scores, flat_labels, need_negative=True)
    best = _best_dice(counts)
    fixed = None
    if threshold is not None:
        predicted = flat_scores >= threshold
        fixed = 2.0 * np.count_nonzero(predicted & flat_labels) / (np.count_nonzero(predicted) + counts.n_positive)
    return VoxelAnomalyMetrics(
        auroc=_auroc(counts),
        auprc=_average_precision(counts),
        dice_upper_bound=best.dice,
        dice_upper_bound_threshold=best.threshold,
        dice_at_threshold=None if fixed is None else float(fixed),
        threshold=None if threshold is None else float(threshold),
        n_voxels=int(flat_scores.size),
        n_anomalous=counts.n_positive,
    )


# --------------------------------------------------------------------------------------------
# Implementation


def _pooled(scores: Cases, labels: Cases, region: Cases | None) -> tuple[np.ndarray, np.ndarray]:
    """Scores (float, as given: float32 sorts faster) and labels (bool) of the region's voxels, all cases concatenated."""
    score_cases, label_cases = _as_case_list(scores), _as_case_list(labels)
    region_cases = None if region is None else _as_case_list(region)
    if len(score_cases) != len(label_cases) or (region_cases is not None and len(region_cases) != len(score_cases)):
        raise InputError(
            f"Got {len(score_cases)} score map(s), {len(label_cases)} label map(s)"
            + ("" if region_cases is None else f" and {len(region_cases)} region(s)")
            + "; give one of each per case."
        )
    flat_scores, flat_labels = [], []
    for i, (s, y) in enumerate(zip(score_cases, label_cases)):
        named = {"scores": s, "labels": y}
        if region_cases is not None:
            named["region"] = region_cases[i]
        try:
            arrays = to_arrays(named)
        except InputError as exc:
            raise InputError(f"Case {i}: {exc}" if len(score_cases) > 1 else str(exc)) from None
        case_scores = np.asarray(arrays["scores"])
        if case_scores.dtype.kind != "f":
            case_scores = case_scores.astype(np.float64)
        require_finite("scores", case_scores)
        case_labels = np.asarray(arrays["labels"]) > 0
        if region_cases is not None:
            inside = np.asarray(arrays["region"]) > 0
            case_scores, case_labels = case_scores[inside], case_labels[inside]
        flat_scores.append(case_scores.ravel())
        flat_labels.append(case_labels.ravel())
    all_scores = np.concatenate(flat_scores)
    if all_scores.size == 0:
        raise InputError("The evaluation region is empty: no voxel to evaluate. Check the region mask.")
    return all_scores, np.concatenate(flat_labels)


def _as_case_list(cases: Cases) -> list[ArrayOrImage]:
    if isinstance(cases, (list, tuple)):
        if not cases:
            raise InputError("An empty list of cases was given; pass at least one case.")
        return list(cases)
    return [cases]


def _ranked_counts(scores: np.ndarray, labels: np.ndarray, need_negative: bool = False) -> _RankedCounts:
    n_positive = int(np.count_nonzero(labels))
    n_negative = int(labels.size - n_positive)
    if n_positive == 0:
        raise InputError(
            "No anomalous voxel (label > 0) in the evaluation region, so the metric is undefined. "
            "Pool this case with others that have anomalies, or leave it out of this metric."
        )
    if need_negative and n_negative == 0:
        raise InputError(
            "Every voxel of the evaluation region is labelled anomalous, so AUROC is undefined. "
            "Use a region that also holds normal tissue."
        )
    order = np.argsort(scores)[::-1]  # one sort; ties are resolved below by the distinct values
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    # Index of the last voxel of each run of equal scores: counts there include the whole tie.
    last_of_run = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    true_positives = np.cumsum(sorted_labels, dtype=np.int64)[last_of_run]
    false_positives = (last_of_run + 1) - true_positives
    return _RankedCounts(
        thresholds=sorted_scores[last_of_run],
        true_positives=true_positives,
        false_positives=false_positives,
        n_positive=n_positive,
        n_negative=n_negative,
    )


def _auroc(counts: _RankedCounts) -> float:
    tpr = np.r_[0.0, counts.true_positives / counts.n_positive]
    fpr = np.r_[0.0, counts.false_positives / counts.n_negative]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _average_precision(counts: _RankedCounts) -> float:
    precision = counts.true_positives / (counts.true_positives + counts.false_positives)
    recall = np.r_[0.0, counts.true_positives / counts.n_positive]
    return float(np.sum(np.diff(recall) * precision))


def _best_dice(counts: _RankedCounts) -> DiceAtThreshold:
    predicted = counts.true_positives + counts.false_positives
    dice = 2.0 * counts.true_positives / (predicted + counts.n_positive)
    best = int(np.argmax(dice))  # first maximum = highest threshold among ties
    return DiceAtThreshold(dice=float(dice[best]), threshold=float(counts.thresholds[best]))

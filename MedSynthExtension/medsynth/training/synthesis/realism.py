"""Realism of generated lesion appearance: can a classifier tell it from held-out real lesions?

Each lesion patch is described by features of its intensities inside the lesion mask
(percentiles, spread, gradient, core-minus-rim contrast, fine texture), all in units of the brain
median. A logistic-regression classifier separates real from generated patches under repeated
stratified cross-validation; its AUC is the score: 0.5 = indistinguishable, 1.0 = always told apart.
Both painters are asked for the same masks, lesion types and mean contrasts as the real patches,
so only the appearance differs. numpy only.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi

from medsynth.benchmarks.anomaly.lesions import LesionImplant
from medsynth.tasks.synthesis.appearance import EDGE_SIGMA_MM
from medsynth.tasks.synthesis.grid import SPACING_MM

FEATURE_NAMES = ("p10", "p50", "p90", "sd", "gradient", "core_minus_rim", "fine_texture_sd")


def lesion_features(intensity: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(n, len(FEATURE_NAMES)) features of (n, h, w) patches inside their masks."""
    rows = []
    for image, region in zip(intensity, mask.astype(bool)):
        values = image[region]
        gradient = np.hypot(*np.gradient(image))[region].mean()
        core = ndi.binary_erosion(region, iterations=1)
        rim = region & ~core
        core_mean = image[core].mean() if core.any() else values.mean()
        fine = (image - ndi.gaussian_filter(image, 1.0))[region].std()
        rows.append([*np.percentile(values, [10, 50, 90]), values.std(), gradient,
                     core_mean - (image[rim].mean() if rim.any() else values.mean()), fine])
    return np.asarray(rows, np.float64)


def procedural_patches(mask: np.ndarray, contrast: np.ndarray, seed: int) -> np.ndarray:
    """The procedural baseline's lesion on a flat brain of intensity 1, per mask and contrast."""
    import SimpleITK as sitk

    out = []
    for index, (region, level) in enumerate(zip(mask.astype(bool), contrast)):
        flat = sitk.GetImageFromArray(np.ones(region.shape, np.float32))
        flat.SetSpacing((SPACING_MM, SPACING_MM))
        implant = LesionImplant(float(level), edge_sigma_mm=EDGE_SIGMA_MM, seed=seed + index)
        out.append(sitk.GetArrayFromImage(implant.apply(flat, region, np.ones(region.shape, bool))))
    return np.asarray(out, np.float32)


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (rank form, ties counted half)."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    positives, negatives = scores[labels], scores[~labels]
    greater = (positives[:, None] > negatives[None, :]).mean()
    ties = (positives[:, None] == negatives[None, :]).mean()
    return float(greater + 0.5 * ties)


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 500) -> np.ndarray:
    weights = np.zeros(x.shape[1] + 1)
    design = np.hstack([x, np.ones((len(x), 1))])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (p - y) / len(y) + l2 * np.r_[weights[:-1], 0] / len(y)
        weights -= 0.5 * gradient
    return weights


def classifier_auc(real: np.ndarray, generated: np.ndarray, seed: int = 0, folds: int = 4,
                   repeats: int = 20) -> tuple[float, float]:
    """Mean and standard deviation over ``repeats`` of the cross-validated real-vs-generated AUC."""
    x = np.vstack([real, generated])
    y = np.r_[np.ones(len(real)), np.zeros(len(generated))]
    rng = np.random.default_rng(seed)
    results = []
    for _ in range(repeats):
        fold = np.empty(len(y), int)
        for cls in (0, 1):
            members = np.flatnonzero(y == cls)
            fold[rng.permutation(members)] = np.arange(len(members)) % folds
        scores = np.empty(len(y))
        for k in range(folds):
            train, test = fold != k, fold == k
            centre, spread = x[train].mean(0), x[train].std(0) + 1e-9
            weights = _fit_logistic((x[train] - centre) / spread, y[train])
            scores[test] = np.hstack([(x[test] - centre) / spread, np.ones((test.sum(), 1))]) @ weights
        results.append(auroc(scores, y))
    return float(np.mean(results)), float(np.std(results))

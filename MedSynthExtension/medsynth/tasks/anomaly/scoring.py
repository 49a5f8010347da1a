"""From an input and its healthy reconstruction to an anomaly score per voxel (numpy + scipy).

Recipe (Baur et al. 2021, "Autoencoders for unsupervised anomaly segmentation in brain MR
images: a comparative study"; Huijben et al. 2025 for the structural term):

1. residual = |x − x̂| (normalised intensity units) plus, with ``kind="l1+ssim"``, the local
   loss of contrast/structure similarity ``1 − cs(x, x̂)`` (SSIM's contrast-structure term over
   a 5×5×5 window), which flags texture changes (ringing, ghosts, lesion borders) that a plain
   intensity difference underrates;
2. restricted to an *eroded* brain mask (the brain's border is where reconstruction errors of
   healthy brains concentrate);
3. a 5×5×5 median filter (removes isolated noisy voxels, keeps blobs);
4. a healthy-normalised score ``z = (r − μ(v)) / σ(v)``, where μ and σ are the mean and standard
   deviation of the same smoothed residual over healthy training brains at voxel v. **Meaning of
   the score: how many healthy-population standard deviations the residual at this voxel is above
   what healthy brains show at the same place.** 0 = typical for a healthy brain; the default
   threshold is chosen on a validation set (see the model card).

The same functions make the healthy statistics during training, so the score a clinician sees is
computed exactly as the one the threshold was validated on.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi

RESIDUAL_KINDS = ("l1", "l1+ssim")
#: Weight of the structural term in ``l1+ssim`` (1 − cs is in [0, 2]; L1 residuals of lesions are ~0.1–0.5).
SSIM_WEIGHT = 0.25
#: SSIM's C2 = (0.03 · dynamic range)², dynamic range 1 for intensities normalised to [0, 1].
_C2 = 0.03 ** 2
#: Floor of the healthy residual standard deviation (normalised units), so empty regions cannot explode.
SD_FLOOR = 0.01


def residual_map(image: np.ndarray, reconstruction: np.ndarray, kind: str = "l1+ssim", window: int = 5) -> np.ndarray:
    """Voxel residual between a normalised image and its reconstruction (same shape, float32)."""
    if kind not in RESIDUAL_KINDS:
        raise ValueError(f"kind must be one of {RESIDUAL_KINDS}, got {kind!r}")
    x = np.asarray(image, dtype=np.float32)
    y = np.asarray(reconstruction, dtype=np.float32)
    residual = np.abs(x - y)
    if kind == "l1+ssim":
        residual += SSIM_WEIGHT * (1.0 - contrast_structure(x, y, window))
    return residual.astype(np.float32)


def contrast_structure(x: np.ndarray, y: np.ndarray, window: int = 5) -> np.ndarray:
    """SSIM's contrast-structure term ``(2σxy + C2) / (σx² + σy² + C2)`` over a cubic window, in [−1, 1]."""
    mean_x = ndi.uniform_filter(x, window)
    mean_y = ndi.uniform_filter(y, window)
    var_x = ndi.uniform_filter(x * x, window) - mean_x ** 2
    var_y = ndi.uniform_filter(y * y, window) - mean_y ** 2
    cov = ndi.uniform_filter(x * y, window) - mean_x * mean_y
    return ((2 * cov + _C2) / (np.maximum(var_x, 0) + np.maximum(var_y, 0) + _C2)).astype(np.float32)


def eroded(mask: np.ndarray, voxels: int = 2) -> np.ndarray:
    """``mask`` eroded by ``voxels`` (6-connected steps), so the scored region avoids the brain's rim."""
    return ndi.binary_erosion(mask, iterations=voxels) if voxels > 0 else np.asarray(mask, bool)


def smoothed_residual(residual: np.ndarray, region: np.ndarray, median_size: int = 5) -> np.ndarray:
    """Residual inside ``region`` (0 outside), median-filtered with a ``median_size``³ window."""
    inside = np.where(region, residual, 0.0).astype(np.float32)
    if median_size > 1:
        inside = ndi.median_filter(inside, size=median_size)
    return np.where(region, inside, 0.0).astype(np.float32)


def healthy_score(smoothed: np.ndarray, residual_mean: np.ndarray, residual_sd: np.ndarray,
                  region: np.ndarray) -> np.ndarray:
    """``(r − μ) / σ`` inside ``region`` (σ floored at :data:`SD_FLOOR`), 0 outside; float32."""
    score = (smoothed - residual_mean) / np.maximum(residual_sd, SD_FLOOR)
    return np.where(region, score, 0.0).astype(np.float32)


def zscore_baseline(image: np.ndarray, intensity_mean: np.ndarray, intensity_sd: np.ndarray,
                    region: np.ndarray, median_size: int = 5) -> np.ndarray:
    """The classic baseline: ``|x − mean| / sd`` against healthy subjects at each voxel, smoothed and
    restricted like the model's score, so both are compared on equal terms."""
    deviation = np.abs(np.asarray(image, np.float32) - intensity_mean) / np.maximum(intensity_sd, SD_FLOOR)
    return smoothed_residual(deviation, region, median_size)

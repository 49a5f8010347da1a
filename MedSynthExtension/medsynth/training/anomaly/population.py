"""The healthy population maps an anomaly model ships with (see :mod:`medsynth.tasks.anomaly.space`).

* ``template`` / ``intensity_mean``: inside the brain prior, the mean normalised intensity of the
  aligned training scans (the z-score baseline's mean); outside, the mean normalised head (skull
  and scalp, needed to register whole-head scans);
* ``intensity_sd``: the standard deviation of the same, smoothed (σ = 2 mm) — with a few healthy
  subjects a raw per-voxel spread is too noisy to divide by;
* ``residual_mean`` / ``residual_sd``: mean and spread of the smoothed residual
  (:func:`medsynth.tasks.anomaly.scoring.smoothed_residual`, the run-time settings) over the
  training scans, each as it is and in ``draws`` augmented versions (healthy variation the
  training set alone under-represents), smoothed (σ = 3 mm).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import scipy.ndimage as ndi

from medsynth.tasks.anomaly.alignment import BRAIN_PRIOR_LEVEL
from medsynth.tasks.anomaly.scoring import SD_FLOOR, eroded, residual_map, smoothed_residual
from medsynth.tasks.anomaly.settings import AnomalySettings
from medsynth.training.anomaly.augment import BatchMaker
from medsynth.training.anomaly.data import PreparedScan
from medsynth.training.anomaly.model import reconstruct_volume

Log = Callable[[str], None]


def masked_mean_sd(values: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-voxel mean and sample standard deviation over the volumes whose mask covers the voxel,
    and that count."""
    stack = np.stack([np.asarray(v, np.float64) for v in values])
    weights = np.stack(masks).astype(np.float64)
    count = weights.sum(axis=0)
    mean = (stack * weights).sum(axis=0) / np.maximum(count, 1)
    var = (((stack - mean) ** 2) * weights).sum(axis=0) / np.maximum(count - 1, 1)
    return mean.astype(np.float32), np.sqrt(var).astype(np.float32), count


def smooth_inside(values: np.ndarray, region: np.ndarray, sigma_voxels: float, fill: float) -> np.ndarray:
    """Gaussian smoothing that only averages voxels of ``region`` (normalised convolution); ``fill`` outside."""
    weights = ndi.gaussian_filter(region.astype(np.float32), sigma_voxels)
    smoothed = ndi.gaussian_filter(np.where(region, values, 0.0).astype(np.float32), sigma_voxels)
    return np.where(weights > 1e-3, smoothed / np.maximum(weights, 1e-3), fill).astype(np.float32)


def intensity_maps(prepared: Sequence[PreparedScan], head_template: np.ndarray,
                   prior: np.ndarray) -> dict[str, np.ndarray]:
    """``template`` (= ``intensity_mean``) and ``intensity_sd`` from the aligned training scans."""
    brain = prior >= BRAIN_PRIOR_LEVEL
    mean, sd, count = masked_mean_sd([p.network_input for p in prepared], [p.brain_mask for p in prepared])
    covered = brain & (count >= 2)
    template = np.where(covered, mean, head_template).astype(np.float32)
    median_sd = float(np.median(sd[covered]))
    sd = np.maximum(smooth_inside(sd, covered, 1.0, median_sd), SD_FLOOR)
    return {"template": template, "intensity_mean": template, "intensity_sd": sd}


def residual_maps(network, prepared: Sequence[PreparedScan], atlas: np.ndarray, maker: BatchMaker,
                  settings: AnomalySettings, draws: int = 2, log: Log = print) -> dict[str, np.ndarray]:
    """``residual_mean`` and ``residual_sd`` of healthy scans under ``settings``."""
    residuals, regions = [], []
    for index, scan in enumerate(prepared):
        versions = [(scan.network_input, scan.brain_mask)]
        versions += [maker.augmented_volume(index) for _ in range(draws)]
        for volume, mask in versions:
            region = eroded(mask, settings.erosion_voxels)
            residual = residual_map(volume, reconstruct_volume(network, volume, atlas), settings.residual)
            residuals.append(smoothed_residual(residual, region, settings.median_size))
            regions.append(region)
        log(f"residual statistics: {scan.name} ({len(versions)} versions)")
    mean, sd, count = masked_mean_sd(residuals, regions)
    covered = count >= 3
    fill_mean, fill_sd = float(np.median(mean[covered])), float(np.median(sd[covered]))
    return {"residual_mean": smooth_inside(mean, covered, 1.5, fill_mean),
            "residual_sd": np.maximum(smooth_inside(sd, covered, 1.5, fill_sd), SD_FLOOR)}

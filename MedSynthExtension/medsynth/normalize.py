"""Intensity normalisation schemes a model card can name.

* ``none`` — values as stored;
* ``linear`` — ``(x - offset) * scale`` (e.g. fixed HU windows);
* ``percentile`` — clip to the [lower, upper] percentiles of the foreground, then map that
  interval linearly onto ``target_range`` (robust to MR's arbitrary units and bright outliers);
* ``zscore`` — subtract the mean and divide by the standard deviation inside a mask
  (``nonzero`` voxels, an ``otsu`` foreground, or ``all``).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.models.card import Normalization


def foreground_mask(voxels: np.ndarray, how: str) -> np.ndarray:
    """Boolean mask of the voxels statistics are taken over (``nonzero``, ``otsu`` or ``all``)."""
    if how == "all":
        return np.ones(voxels.shape, dtype=bool)
    if how == "otsu":
        otsu = sitk.OtsuThreshold(sitk.GetImageFromArray(voxels.astype(np.float32)), 0, 1)
        return sitk.GetArrayFromImage(otsu).astype(bool)
    return voxels != 0


def normalize(voxels: np.ndarray, spec: Normalization) -> np.ndarray:
    """Return a new float32 array normalised as ``spec`` says; ``voxels`` is not modified."""
    data = voxels.astype(np.float32, copy=True)
    if spec.scheme == "none":
        return data
    if spec.scheme == "linear":
        return (data - np.float32(spec.offset)) * np.float32(spec.scale)
    mask = foreground_mask(data, spec.mask)
    if not mask.any():
        raise InputError("The image has no foreground voxels to normalise intensities on; check the input.")
    values = data[mask]
    if spec.scheme == "percentile":
        low, high = np.percentile(values, [spec.lower_percentile, spec.upper_percentile])
        if high <= low:
            raise InputError("The image's foreground intensities are (nearly) constant; it cannot be normalised.")
        target_low, target_high = spec.target_range
        np.clip(data, low, high, out=data)
        return ((data - low) / (high - low) * (target_high - target_low) + target_low).astype(np.float32)
    if spec.scheme == "zscore":
        std = float(values.std())
        if std == 0:
            raise InputError("The image's foreground intensities are constant; z-score normalisation is undefined.")
        return ((data - float(values.mean())) / std).astype(np.float32)
    raise InputError(f"Unknown normalisation scheme '{spec.scheme}'.")

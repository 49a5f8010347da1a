"""Sliding-window patch inference over a 3D volume with Gaussian blending.

The window positions, padding and Gaussian importance map follow the conventions of MONAI's
``sliding_window_inference`` (so a model validated with MONAI gives the same numbers here), but
the loop is plain numpy around any ``predict(batch) -> batch`` callable: no torch at run time,
outputs accumulated in place, progress reported after every batch and cancellation checked
before every batch.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable, Sequence

import numpy as np

from medsynth.errors import Cancelled

Predict = Callable[[np.ndarray], np.ndarray]
ProgressCallback = Callable[[float], None]
CancelCheck = Callable[[], bool]


def gaussian_importance_map(patch_size: Sequence[int], sigma_scale: float = 0.125) -> np.ndarray:
    """Separable Gaussian weights over a patch, peak 1 at the centre, floored at 1e-3.

    sigma = sigma_scale × patch length along each axis; the floor keeps every voxel's total
    weight positive (no division by zero where windows only touch with their edges).
    """
    weights = np.ones((), dtype=np.float32)
    for length in patch_size:
        offsets = np.arange(length, dtype=np.float32) - (length - 1) / 2.0
        sigma = np.float32(length * sigma_scale)
        axis = np.exp(offsets ** 2 / (-2 * sigma ** 2)).astype(np.float32)
        weights = np.multiply.outer(weights, axis)
    floor = max(float(weights.min()), 1e-3)
    return np.maximum(weights, np.float32(floor)).astype(np.float32)


def window_starts(image_size: int, patch: int, overlap: float) -> list[int]:
    """Start indices of the windows along one axis: step ``int(patch × (1 − overlap))``, the last
    window shifted back to end at the border."""
    if patch >= image_size:
        return [0]
    step = max(int(patch * (1 - overlap)), 1)
    count = next(n for n in range(1, math.ceil(image_size / step) + 1) if (n - 1) * step + patch >= image_size)
    return [min(n * step, image_size - patch) for n in range(count)]


def sliding_window_predict(
    predict: Predict,
    volume: np.ndarray,
    patch_size: Sequence[int],
    overlap: float = 0.25,
    batch_size: int = 2,
    blend: str = "gaussian",
    sigma_scale: float = 0.125,
    pad_value: float = 0.0,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> np.ndarray:
    """Run ``predict`` over overlapping patches of ``volume`` (channels, z, y, x); blend the results.

    ``predict`` takes a float32 batch (n, channels, *patch_size) and returns (n, out_channels,
    *patch_size). Returns float32 (out_channels, z, y, x) on the volume's grid. A volume smaller
    than a patch is padded with ``pad_value`` (centred) and cropped back. Raises
    :class:`Cancelled` when ``cancelled()`` turns true; the check runs before every batch, so
    cancelling costs at most one batch of work.
    """
    if volume.ndim != 4:
        raise ValueError(f"volume must be (channels, z, y, x), got shape {volume.shape}")
    patch = tuple(int(p) for p in patch_size)
    padded, crop = _pad_to_patch(volume, patch, pad_value)
    spatial = padded.shape[1:]
    starts = list(itertools.product(*(window_starts(s, p, overlap) for s, p in zip(spatial, patch))))
    weights = gaussian_importance_map(patch, sigma_scale) if blend == "gaussian" else np.ones(patch, np.float32)
    output: np.ndarray | None = None
    weight_sum = np.zeros(spatial, dtype=np.float32)
    batch = np.empty((min(batch_size, len(starts)), padded.shape[0], *patch), dtype=np.float32)
    for first in range(0, len(starts), batch_size):
        if cancelled is not None and cancelled():
            raise Cancelled("Inference was cancelled; no output was produced.")
        group = starts[first:first + batch_size]
        for row, start in enumerate(group):
            batch[row] = padded[(slice(None), *_window(start, patch))]
        predicted = np.asarray(predict(batch[:len(group)]), dtype=np.float32)
        if output is None:
            output = np.zeros((predicted.shape[1], *spatial), dtype=np.float32)
        for row, start in enumerate(group):
            window = _window(start, patch)
            output[(slice(None), *window)] += predicted[row] * weights
            weight_sum[window] += weights
        if progress is not None:
            progress((first + len(group)) / len(starts))
    output /= weight_sum
    return output[(slice(None), *crop)]


def _window(start: Sequence[int], patch: Sequence[int]) -> tuple[slice, ...]:
    return tuple(slice(s, s + p) for s, p in zip(start, patch))


def _pad_to_patch(volume: np.ndarray, patch: Sequence[int], pad_value: float) -> tuple[np.ndarray, tuple[slice, ...]]:
    """Pad each spatial axis shorter than the patch, half before and the rest after."""
    pads = [(0, 0)]
    crop = []
    for size, length in zip(volume.shape[1:], patch):
        missing = max(length - size, 0)
        pads.append((missing // 2, missing - missing // 2))
        crop.append(slice(missing // 2, missing // 2 + size))
    if not any(before or after for before, after in pads):
        return volume.astype(np.float32, copy=False), tuple(crop)
    return np.pad(volume.astype(np.float32, copy=False), pads, constant_values=pad_value), tuple(crop)

"""A training volume on the model grid, and random patches (or 2.5D slabs) drawn from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class TrainingVolume:
    """One MR/CT pair on the model grid, arrays in (z, y, x) order.

    ``mr``: normalised network input (float16 to halve memory; cast when batching);
    ``ct``: target in HU (float16: exact for integers up to 2048, ±1 HU above, below what a
    generator resolves); ``mask``: voxels the loss and the metrics count (the body, with the
    same margin the runtime uses).
    """

    name: str
    mr: np.ndarray
    ct: np.ndarray
    mask: np.ndarray

    def __post_init__(self) -> None:
        if not (self.mr.shape == self.ct.shape == self.mask.shape):
            raise ValueError(f"{self.name}: mr {self.mr.shape}, ct {self.ct.shape} and mask {self.mask.shape} differ")
        self.mr = np.asarray(self.mr, dtype=np.float16)
        self.ct = np.asarray(self.ct, dtype=np.float16)
        self.mask = np.asarray(self.mask, dtype=bool)


def pad_to(array: np.ndarray, shape: Sequence[int], value: float) -> np.ndarray:
    """Pad every axis shorter than ``shape`` (half before, the rest after) with ``value``."""
    pads = [(max(s - a, 0) // 2, max(s - a, 0) - max(s - a, 0) // 2) for a, s in zip(array.shape, shape)]
    if not any(p for pair in pads for p in pair):
        return array
    return np.pad(array, pads, constant_values=value)


def sample_patch(volume: TrainingVolume, patch: Sequence[int], rng: np.random.Generator,
                 pad_input: float, require_mask: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random (mr, ct, mask) patch; padded where the volume is smaller than the patch.

    With ``require_mask`` the patch centre is drawn among masked voxels (so patches of pure air
    are not wasted), otherwise uniformly.
    """
    mr = pad_to(volume.mr, patch, pad_input)
    ct = pad_to(volume.ct, patch, -1024.0)
    mask = pad_to(volume.mask, patch, False)
    if require_mask and mask.any():
        zs = np.flatnonzero(mask.any(axis=(1, 2)))
        centre_z = int(rng.choice(zs))
        centre = [centre_z] + [int(rng.integers(0, n)) for n in mask.shape[1:]]
    else:
        centre = [int(rng.integers(0, n)) for n in mask.shape]
    starts = [int(np.clip(c - p // 2, 0, n - p)) for c, p, n in zip(centre, patch, mask.shape)]
    window = tuple(slice(s, s + p) for s, p in zip(starts, patch))
    return mr[window].astype(np.float32), ct[window].astype(np.float32), mask[window]

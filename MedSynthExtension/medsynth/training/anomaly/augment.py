"""Training batches: random patches of healthy volumes, augmented, and their corrupted copies (torch).

Everything happens on small tensors with torch's own ops (``grid_sample`` for the affine patch
sampling, trilinear upsampling for smooth random fields), so data preparation costs a fraction
of a training step on two CPU cores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from medsynth.training.anomaly.spec import TrainingConfig


@dataclass
class PatchBatch:
    """``clean``: augmented healthy patches (the target); ``corrupted``: what the network sees;
    ``atlas``: the healthy template at the patch's (unaugmented) place; ``mask``: brain voxels
    (loss weight). Tensors (N, 1, *patch)."""

    clean: object
    corrupted: object
    atlas: object
    mask: object


class BatchMaker:
    """Draws augmented, corrupted patch batches from MNI-grid volumes with a seeded generator.

    The scan and its mask are resampled through the random affine; the brain prior and the atlas
    stay where they are in MNI space (augmentation imitates a scan that is not perfectly aligned
    with the population maps, which is what happens at run time).
    """

    def __init__(self, inputs: Sequence[np.ndarray], masks: Sequence[np.ndarray], prior: np.ndarray,
                 atlas: np.ndarray, config: TrainingConfig, spacing_mm: float = 2.0):
        import torch

        self.config = config
        self.spacing_mm = spacing_mm
        self.volumes = torch.from_numpy(np.stack([np.stack([x, m.astype(np.float32)])
                                                  for x, m in zip(inputs, masks)]).astype(np.float32))
        self.maps = torch.from_numpy(np.stack([prior, atlas]).astype(np.float32))[None]
        self.brain_voxels = np.argwhere(prior >= 0.5)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)

    def batch(self) -> PatchBatch:
        import torch

        config = self.config
        picks = self.rng.integers(0, len(self.volumes), config.batch_size)
        centres = [self.brain_voxels[self.rng.integers(len(self.brain_voxels))].astype(float) for _ in picks]
        sampled = _sample(self.volumes[picks], torch.stack([self._grid(centre) for centre in centres]))
        fixed = _sample(self.maps.expand(len(picks), -1, -1, -1, -1),
                        torch.stack([self._grid(centre, strength=0.0) for centre in centres]))
        image, mask = sampled[:, 0:1], (sampled[:, 1:2] > 0.5).float()
        prior, atlas = fixed[:, 0:1], fixed[:, 1:2]
        strip = torch.rand(len(picks), 1, 1, 1, 1, generator=self.generator) < config.strip_probability
        level = 0.5 + 0.35 * torch.rand(len(picks), 1, 1, 1, 1, generator=self.generator)
        mask = torch.where(strip, mask * (prior >= level).float(), mask)
        clean = self._intensity(image, mask) * mask
        corrupted = self._blobs(clean, mask)
        noise = self._smooth_field(clean.shape, config.noise_cell_voxels) * config.noise_sd
        return PatchBatch(clean, corrupted + noise * mask, atlas, mask)

    def _blobs(self, clean, mask):
        """With probability ``blob_probability``, replace tissue inside random smooth blobs (a
        thresholded random field of 8–24 mm cells; soft edges) by tissue of a random intensity in
        [0, 1] with a little texture: a generic "foreign tissue" corruption, not a lesion model."""
        import torch

        config = self.config
        out = []
        for sample, inside in zip(clean, mask):
            if self.rng.random() >= config.blob_probability:
                out.append(sample)
                continue
            field = self._smooth_field((1, 1, *sample.shape[1:]), int(self.rng.integers(4, 13)))[0]
            spread = float(field.std())
            level = float(self.rng.uniform(0.8, 1.8)) * spread  # 4–20 % of the patch
            alpha = torch.sigmoid((field - level) / (0.1 * spread)) * inside
            tissue = float(self.rng.uniform(0.0, 1.0)) * (1 + 0.05 * self._smooth_field((1, 1, *sample.shape[1:]), 2)[0])
            out.append((1 - alpha) * sample + alpha * tissue)
        return torch.stack(out)

    def augmented_volume(self, index: int, strength: float = 0.5):
        """Volume ``index`` as a whole, augmented with ``strength`` × the spatial ranges and the
        intensity augmentation (no corruption): healthy variation for the residual statistics."""
        shape = np.array(self.volumes.shape[2:])
        grid = self._grid(centre=(shape - 1) / 2.0, patch=shape, strength=strength)
        sampled = _sample(self.volumes[index:index + 1], grid[None])
        mask = (sampled[:, 1:2] > 0.5).float()
        return (self._intensity(sampled[:, 0:1], mask) * mask)[0, 0].numpy(), mask[0, 0].numpy() > 0

    def _grid(self, centre, patch=None, strength: float = 1.0):
        """Sampling grid (patch, 3) in grid_sample's normalised (x, y, z) coordinates: a random
        rotation/scaling about ``centre``, plus a translation (``strength`` 0: no augmentation)."""
        import torch

        config = self.config
        shape = np.array(self.volumes.shape[2:])
        patch = np.array(config.patch_size if patch is None else patch)
        angles = np.deg2rad(self.rng.uniform(-config.rotate_deg, config.rotate_deg, 3) * strength)
        scale = 1.0 + self.rng.uniform(-config.scale, config.scale, 3) * strength
        shift = self.rng.uniform(-config.translate_mm, config.translate_mm, 3) * strength / self.spacing_mm
        matrix = _rotation(angles) @ np.diag(scale)
        # x, y, z order (grid_sample's) throughout, so no reordering copy is needed.
        points = _offsets_xyz(tuple(int(p) for p in patch)) @ matrix[::-1, ::-1].T.astype(np.float32)
        points *= (2 / (shape - 1))[::-1].astype(np.float32)
        points += ((np.asarray(centre) + shift) * 2 / (shape - 1) - 1)[::-1].astype(np.float32)
        return torch.from_numpy(points.reshape(*patch, 3))

    def _smooth_field(self, shape, cell: int):
        """Gaussian noise on a grid of ``cell``-voxel cells, upsampled trilinearly (unit variance at the nodes)."""
        import torch

        coarse = [max(math.ceil(s / cell) + 1, 2) for s in shape[2:]]
        field = torch.randn(shape[0], 1, *coarse, generator=self.generator)
        return torch.nn.functional.interpolate(field, size=tuple(shape[2:]), mode="trilinear", align_corners=True)

    def _intensity(self, image, mask):
        """Gamma, bias field and noise, then the run-time normalisation (1st–99th percentile → [0, 1])."""
        import torch

        config = self.config
        n = image.shape[0]
        gamma = torch.exp(torch.randn(n, 1, 1, 1, 1, generator=self.generator) * config.gamma_log_sd)
        out = image.clamp(min=0) ** gamma
        bias = torch.exp(self._smooth_field(image.shape, 32) * config.bias_amplitude / 2)
        out = out * bias
        out = out + torch.randn(image.shape, generator=self.generator) * config.noise_max * torch.rand(
            n, 1, 1, 1, 1, generator=self.generator)
        normalised = []
        for sample, inside in zip(out, mask):
            values = sample[inside > 0]
            if values.numel() < 100:
                normalised.append(sample.clamp(0, 1))
                continue
            subsample = values[:: max(1, values.numel() // 20_000)]
            low, high = torch.quantile(subsample, torch.tensor([0.01, 0.99]))
            normalised.append(((sample.clamp(low, high) - low) / (high - low).clamp(min=1e-6)))
        return torch.stack(normalised)


@lru_cache(maxsize=4)
def _offsets_xyz(patch: tuple[int, int, int]) -> np.ndarray:
    """Voxel offsets of a patch's voxels from its centre, in (x, y, z) order: (n, 3) float32."""
    zyx = np.stack(np.meshgrid(*[np.arange(p) - (p - 1) / 2 for p in patch], indexing="ij"), -1).reshape(-1, 3)
    return np.ascontiguousarray(zyx[:, ::-1], dtype=np.float32)


def _sample(volumes, grids):
    import torch

    return torch.nn.functional.grid_sample(volumes, grids, mode="bilinear", padding_mode="zeros", align_corners=True)


def _rotation(angles: np.ndarray) -> np.ndarray:
    a, b, c = angles
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx

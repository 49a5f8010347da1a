"""Training samples for the anomaly segmenter: healthy brains from many simulated scanners, with
synthetic anomalies whose outline is the label (torch).

Why: a model that learns "what the training scanner looks like" calls every other scanner abnormal.
Here the healthy brains are re-rendered on every draw as if by another scanner — a random monotone
intensity curve (tissue contrast), gamma, a smooth multiplicative bias field, blur (thick slices,
population templates), noise, a brain mask one voxel tighter or looser (another brain extractor),
misregistration (random affine) and left–right flips — while the anomalies keep one meaning: tissue
that differs from what the brain around it and the mirror side of the same brain show. The
anomalies are the real lesion shapes of an MNI lesion library (moved, mirrored) and random smooth
blobs, filled with darker or brighter tissue (relative change or replacement, with texture and a
soft border), and tumour-like masses (:meth:`SampleMaker._implant_tumour`: a dark or solid core, an
optional rim, darker oedema with an infiltrative border, and mass effect that pushes the tissue
around it outward, as gliomas and metastases do), implanted *before* the scanner simulation so that
they change with the scanner like real tissue does. The label is the implant where it visibly changed the image
(:data:`VISIBLE_CHANGE` of the normalised intensity), so the network is never asked to find what
is not there (self-supervised anomaly segmentation, as DRAEM / foreign-patch training).

Inputs: whole heads on the MNI grid, normalised by their brain's percentiles, and their brain masks
(the mask is applied after jittering it, so a looser mask shows real tissue around the brain); the
network sees two channels, the masked scan and its left–right mirror (:func:`with_mirror`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from medsynth.training.anomaly.augment import _offsets_xyz, _rotation, _sample

#: Smallest change of normalised intensity that makes an implanted voxel part of the label.
VISIBLE_CHANGE = 0.08


@dataclass(frozen=True)
class SyntheticConfig:
    """Ranges of the scanner simulation and of the anomalies (quoted in the card)."""

    patch_size: tuple[int, int, int] = (64, 80, 64)
    batch_size: int = 2
    anomaly_probability: float = 0.75
    max_anomalies: int = 3
    lesion_shape_probability: float = 0.6
    tumour_probability: float = 0.35
    tumour_core_radius_voxels: tuple[float, float] = (2.0, 14.0)
    tumour_oedema_ratio: tuple[float, float] = (1.0, 2.0)
    mass_effect_max: float = 0.5
    tumour_rim_probability: float = 0.3
    rotate_deg: float = 10.0
    scale: float = 0.1
    translate_mm: float = 8.0
    curve_points: int = 4
    curve_jitter: float = 0.08
    gamma_log_sd: float = 0.25
    bias_amplitude: float = 0.4
    blur_probability: float = 0.3
    blur_max_voxels: float = 1.2
    noise_max: float = 0.06
    mask_jitter_probability: float = 0.5
    seed: int = 0


class SampleMaker:
    """Seeded batches ``(inputs (N, 2, *patch), labels (N, 1, *patch), masks (N, 1, *patch))``."""

    def __init__(self, volumes: Sequence[np.ndarray], masks: Sequence[np.ndarray], lesions: Sequence[np.ndarray],
                 config: SyntheticConfig):
        import torch

        self.config = config
        self.volumes = torch.from_numpy(np.stack([np.stack([v, m.astype(np.float32)])
                                                  for v, m in zip(volumes, masks)]).astype(np.float32))
        self.lesions = list(lesions)  # uint8 (z, y, x) on the MNI grid; converted when drawn
        self.generator = torch.Generator().manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)

    def batch(self):
        import torch

        samples = [self.sample() for _ in range(self.config.batch_size)]
        return tuple(torch.stack([s[i] for s in samples]) for i in range(3))

    def sample(self):
        """One sample: a randomly rendered brain with 0–``max_anomalies`` anomalies, cropped to a patch."""
        import torch

        config = self.config
        index = int(self.rng.integers(len(self.volumes)))
        moved = _sample(self.volumes[index:index + 1], self._grid())[0]
        image, mask = moved[0:1], (moved[1:2] > 0.5).float()
        if self.rng.random() < 0.5:
            image, mask = image.flip(-1), mask.flip(-1)
        mask = self._jitter_mask(mask)
        image = image * mask
        label = torch.zeros_like(image)
        if self.rng.random() < config.anomaly_probability:
            for _ in range(int(self.rng.integers(1, config.max_anomalies + 1))):
                image, label = self._implant(image, label, mask)
        image = self._render(image, mask)
        inputs = with_mirror(image[None])[0]
        crop = self._crop(label if label.sum() > 0 and self.rng.random() < 0.6 else mask)
        return inputs[(slice(None), *crop)], label[(slice(None), *crop)], mask[(slice(None), *crop)]

    # --- space ----------------------------------------------------------------------------------------------------

    def _grid(self):
        import torch

        config = self.config
        shape = np.array(self.volumes.shape[2:])
        angles = np.deg2rad(self.rng.uniform(-config.rotate_deg, config.rotate_deg, 3))
        scale = 1.0 + self.rng.uniform(-config.scale, config.scale, 3)
        shift = self.rng.uniform(-config.translate_mm, config.translate_mm, 3) / 2.0
        matrix = _rotation(angles) @ np.diag(scale)
        points = _offsets_xyz(tuple(int(s) for s in shape)) @ matrix[::-1, ::-1].T.astype(np.float32)
        points *= (2 / (shape - 1))[::-1].astype(np.float32)
        points += ((((shape - 1) / 2.0) + shift) * 2 / (shape - 1) - 1)[::-1].astype(np.float32)
        return torch.from_numpy(points.reshape(*shape, 3))[None]

    def _crop(self, where) -> tuple[slice, ...]:
        """A patch around a random voxel of ``where`` (the brain, or the anomalies), inside the volume."""
        inside = np.argwhere(where[0].numpy() > 0)
        centre = inside[self.rng.integers(len(inside))]
        crop = []
        for c, p, s in zip(centre, self.config.patch_size, where.shape[1:]):
            start = int(np.clip(c - p // 2, 0, s - p))
            crop.append(slice(start, start + p))
        return tuple(crop)

    def _jitter_mask(self, mask):
        """Another brain extractor: the mask one voxel looser (max filter) or tighter (min filter)."""
        import torch.nn.functional as F

        if self.rng.random() >= self.config.mask_jitter_probability:
            return mask
        sign = 1.0 if self.rng.random() < 0.5 else -1.0
        return sign * F.max_pool3d(sign * mask[None], 3, 1, 1)[0]

    # --- anomalies ------------------------------------------------------------------------------------------------

    def _shape(self, mask):
        """A soft anomaly outline (0–1) inside the brain: a real lesion shape moved and mirrored, or a blob."""
        import torch

        if self.lesions and self.rng.random() < self.config.lesion_shape_probability:
            lesion = torch.from_numpy(self.lesions[int(self.rng.integers(len(self.lesions)))].astype(np.float32))[None]
            if self.rng.random() < 0.5:
                lesion = lesion.flip(-1)
            shift = [int(v) for v in self.rng.integers(-8, 9, 3)]
            soft = torch.roll(lesion, shifts=shift, dims=(1, 2, 3))
        else:
            radius = float(self.rng.uniform(2.0, 12.0))  # voxels of 2 mm: 4–24 mm
            soft = (self._blob_distance(mask, self._brain_voxel(mask), radius) < 1.0).float()[None]
        return _blur(soft, float(self.rng.uniform(0.3, 1.0))) * mask

    def _brain_voxel(self, mask):
        """A random voxel of the brain, (z, y, x) float32."""
        inside = np.argwhere(mask[0].numpy() > 0)
        return inside[self.rng.integers(len(inside))].astype(np.float32)

    def _blob_distance(self, mask, centre: np.ndarray, radius: float):
        """Distance from ``centre`` in units of a random ellipsoid of mean radius ``radius`` (voxels), with a
        smooth random wobble of the outline: ``< 1`` is inside the blob."""
        import torch

        axes = torch.tensor(self.rng.uniform(0.6, 1.4, 3), dtype=torch.float32) * radius
        distance = (((_voxel_grid(mask.shape[1:]) - torch.from_numpy(centre)[:, None, None, None])
                     / axes[:, None, None, None]) ** 2).sum(0).sqrt()
        return distance + 0.25 * self._smooth_field(mask.shape[1:], int(self.rng.integers(3, 7)))[0]

    def _implant(self, image, label, mask):
        import torch

        if self.rng.random() < self.config.tumour_probability:
            return self._implant_tumour(image, label, mask)
        alpha = self._shape(mask)
        if float(alpha.sum()) < 4:
            return image, label
        texture = 1 + float(self.rng.uniform(0.0, 0.15)) * self._smooth_field(image.shape[1:], 2)
        brain_level = float(image[mask > 0].median())
        if self.rng.random() < 0.5:
            change = float(self.rng.choice([-1, 1]) * self.rng.uniform(0.2, 0.8))
            tissue = image * (1 + change) * texture
        else:
            tissue = brain_level * float(self.rng.uniform(0.05, 1.6)) * texture
        changed = (1 - alpha) * image + alpha * tissue.clamp(min=0)
        return changed, _with_visible(label, changed, image, alpha, brain_level)

    def _implant_tumour(self, image, label, mask):
        """A mass: the brain around a random centre pushed outward (mass effect), then oedema (the pushed
        tissue made darker, with a wide soft border) and a core (cyst/necrosis-dark to solid, sometimes
        haemorrhage-bright, textured), sometimes with a rim of its own intensity. Earlier anomalies move
        with the tissue; the label is the visible oedema and core, not the displaced healthy tissue."""
        import torch

        config = self.config
        centre = self._brain_voxel(mask)
        core_radius = float(self.rng.uniform(*config.tumour_core_radius_voxels))
        oedema_radius = core_radius * float(self.rng.uniform(*config.tumour_oedema_ratio))
        strength = float(self.rng.uniform(0.0, config.mass_effect_max))
        image = self._mass_effect(image, centre, 1.5 * oedema_radius, strength) * mask
        label = (self._mass_effect(label, centre, 1.5 * oedema_radius, strength) > 0.5).float() * mask
        core_distance = self._blob_distance(mask, centre, core_radius)[None]
        core = _blur((core_distance < 1.0).float(), float(self.rng.uniform(0.3, 0.8))) * mask
        oedema = _blur((self._blob_distance(mask, centre, oedema_radius)[None] < 1.0).float(),
                       float(self.rng.uniform(0.8, 2.5))) * mask
        if float((core + oedema).sum()) < 4:
            return image, label
        brain_level = float(image[mask > 0].median())
        texture = 1 + float(self.rng.uniform(0.0, 0.2)) * self._smooth_field(image.shape[1:], 2)
        core_level = self.rng.choice([self.rng.uniform(0.05, 0.45), self.rng.uniform(0.45, 0.95),
                                      self.rng.uniform(1.1, 1.5)], p=[0.45, 0.45, 0.1])
        core_tissue = brain_level * float(core_level) * texture
        if self.rng.random() < config.tumour_rim_probability:
            rim = ((core_distance >= 1.0) & (core_distance < 1.0 + 1.5 / core_radius)).float() * mask
            core_tissue = core_tissue * (1 - rim) + rim * brain_level * float(self.rng.uniform(0.8, 1.4))
            core = torch.maximum(core, rim)
        oedema_tissue = image * (1 - float(self.rng.uniform(0.1, 0.4))) * texture
        changed = (1 - oedema) * image + oedema * oedema_tissue
        changed = (1 - core) * changed + core * core_tissue.clamp(min=0)
        return changed, _with_visible(label, changed, image, torch.maximum(core, oedema), brain_level)

    def _mass_effect(self, volume, centre: np.ndarray, reach: float, strength: float):
        """``volume`` (1, z, y, x) with the tissue around ``centre`` pushed outward: each voxel shows what was
        at ``centre + (x - centre)·(1 − strength·exp(−(r/reach)²))``, a smooth radial expansion that is
        one-to-one for ``strength < 1`` and fades out beyond ``reach`` voxels."""
        import torch

        offsets = _voxel_grid(volume.shape[1:]) - torch.from_numpy(centre)[:, None, None, None]
        shrink = 1 - strength * torch.exp(-(offsets ** 2).sum(0) / reach ** 2)
        source = torch.from_numpy(centre)[:, None, None, None] + offsets * shrink
        size = torch.tensor(volume.shape[1:], dtype=torch.float32)[:, None, None, None]
        grid = (source / (size - 1) * 2 - 1).flip(0).permute(1, 2, 3, 0)[None]  # (1, z, y, x, [x, y, z])
        return _sample(volume[None], grid)[0]

    # --- scanner --------------------------------------------------------------------------------------------------

    def _render(self, image, mask):
        """The brain as another scanner would show it, renormalised like the run time (1st–99th percentile)."""
        import torch

        config = self.config
        knots = np.linspace(0, 1, config.curve_points + 2)
        values = np.sort(np.clip(knots + self.rng.normal(0, config.curve_jitter, knots.size), 0, 1.2))
        values[0] = 0.0
        out = torch.from_numpy(np.interp(image.clamp(0, 1).numpy(), knots, values).astype(np.float32))
        out = out ** float(math.exp(self.rng.normal(0, config.gamma_log_sd)))
        out = out * torch.exp(self._smooth_field(image.shape[1:], 24) * float(self.rng.uniform(0, config.bias_amplitude)))
        if self.rng.random() < config.blur_probability:
            out = _blur(out, float(self.rng.uniform(0.3, config.blur_max_voxels)))
        out = out + torch.randn(out.shape, generator=self.generator) * float(self.rng.uniform(0, config.noise_max))
        values = out[mask > 0]
        subsample = values[:: max(1, values.numel() // 50_000)]
        low, high = torch.quantile(subsample, torch.tensor([0.01, 0.99]))
        return ((out.clamp(low, high) - low) / (high - low).clamp(min=1e-6)) * mask

    def _smooth_field(self, shape, cell: int):
        import torch

        coarse = [max(math.ceil(s / cell) + 1, 2) for s in shape]
        field = torch.randn(1, 1, *coarse, generator=self.generator)
        return torch.nn.functional.interpolate(field, size=tuple(shape), mode="trilinear", align_corners=True)[0]


def _with_visible(label, changed, before, alpha, brain_level: float):
    """``label`` plus the voxels where an implant (weight ``alpha``) visibly changed the image."""
    import torch

    visible = ((changed - before).abs() > VISIBLE_CHANGE * max(brain_level, 1e-3)) & (alpha > 0.5)
    return torch.maximum(label, visible.float())


def _voxel_grid(shape):
    """(3, z, y, x) float32 voxel coordinates."""
    import torch

    return torch.stack(torch.meshgrid(*[torch.arange(s, dtype=torch.float32) for s in shape], indexing="ij"))


def with_mirror(images):
    """``(N, 1, z, y, x)`` → ``(N, 2, z, y, x)``: the scan and its left–right mirror (x is the last axis
    of the MNI grid, symmetric about x = 0 mm), so that one side can be compared with the other."""
    import torch

    return torch.cat([images, images.flip(-1)], dim=1)


def _blur(volume, sigma: float):
    """Separable Gaussian blur of a (1, z, y, x) tensor (sigma in voxels)."""
    import torch
    import torch.nn.functional as F

    radius = max(1, int(math.ceil(2.5 * sigma)))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    out = volume[None]
    for axis in range(3):
        shape = [1, 1, 1, 1, 1]
        shape[2 + axis] = kernel.numel()
        padding = [0, 0, 0]
        padding[axis] = radius
        out = F.conv3d(out, kernel.view(shape), padding=tuple(padding))
    return out[0]

"""Training loop of the future-MRI network (CPU, seeded, time-bounded).

Two losses, one network: the UNet learns the regions from each baseline's parcellation
(class-weighted cross-entropy + soft Dice on random 3D patches, with left/right mirroring,
small rotations and intensity augmentation), and the condition MLP learns every pair's target
source strengths (mean squared error over all pairs at each step; cheap, so it sees them all).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import ndimage as ndi

from medsynth.tasks.future_regions import REGION_NAMES, region_index
from medsynth.training.future.dataset import Anatomy, Example
from medsynth.training.future.model import NetConfig, build_model
from medsynth.training.future.spec import FutureSpec

#: Regions patches are centred on more often (small, and the ones the evaluation is about).
FOCUS_REGIONS = ("hippocampus", "amygdala", "ventricles")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. ``time_limit_s`` stops early (the report says so) to keep the
    built-in command within its CPU budget."""

    iterations: int = 800
    batch_size: int = 2
    learning_rate: float = 5e-3
    seed: int = 0
    threads: int = 2
    time_limit_s: float = 840.0
    focus_fraction: float = 0.35
    anywhere_fraction: float = 0.4
    rotation_degrees: float = 8.0
    source_scale: float = 5.0
    log_every: int = 100

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainReport:
    iterations: int
    seconds: float
    stopped_by_time_limit: bool
    final_segmentation_loss: float
    final_source_rmse: float


class PatchSampler:
    """Random augmented (image, regions) patches from the anatomies, reproducible from ``seed``.

    Patch centres: a focus region (``focus_fraction``), anywhere in the field of view
    (``anywhere_fraction``: scalp, face and neck must be learned as outside the brain, or the
    runtime would deform them), else anywhere in the brain."""

    def __init__(self, anatomies: Sequence[Anatomy], spec: FutureSpec, config: TrainConfig):
        self.anatomies, self.patch, self.config = anatomies, np.asarray(spec.patch_size), config
        self.rng = np.random.default_rng(config.seed)
        outside = region_index("outside")
        self.brain = [np.argwhere(a.grouped != outside) for a in anatomies]
        focus = [region_index(name) for name in FOCUS_REGIONS]
        self.focus = [np.argwhere(np.isin(a.grouped, focus)) for a in anatomies]

    def sample(self, anatomy: int) -> tuple[np.ndarray, np.ndarray]:
        rng, config = self.rng, self.config
        image, grouped = self.anatomies[anatomy].image, self.anatomies[anatomy].grouped
        draw = rng.random()
        if draw < config.anywhere_fraction:
            centre = np.array([rng.integers(n) for n in image.shape])
        else:
            pool = self.focus[anatomy] if draw < config.anywhere_fraction + config.focus_fraction else self.brain[anatomy]
            centre = pool[rng.integers(len(pool))] + rng.integers(-8, 9, size=3)
        margin = 8
        size = self.patch + 2 * margin
        start = centre - size // 2
        image_box = _crop(image, start, size, 0.0)
        label_box = _crop(grouped, start, size, region_index("outside"))
        if rng.random() < 0.5 and config.rotation_degrees > 0:
            image_box, label_box = _rotate(image_box, label_box, rng, config.rotation_degrees)
        inner = tuple(slice(margin, margin + p) for p in self.patch)
        image_patch, label_patch = image_box[inner], label_box[inner]
        if rng.random() < 0.5:  # left/right: RAS arrays are (z, y, x) with x = left→right
            image_patch, label_patch = image_patch[..., ::-1], label_patch[..., ::-1]
        gamma = float(np.exp(rng.uniform(-0.3, 0.3)))
        image_patch = np.clip(image_patch, 0, None) ** gamma * rng.uniform(0.9, 1.1) + rng.normal(0, 0.01, image_patch.shape)
        return image_patch.astype(np.float32), label_patch.astype(np.int64)


def _crop(volume: np.ndarray, start: np.ndarray, size: np.ndarray, fill) -> np.ndarray:
    out = np.full(tuple(size), fill, dtype=volume.dtype)
    low = np.maximum(start, 0)
    high = np.minimum(start + size, volume.shape)
    if np.all(high > low):
        out[tuple(slice(l - s, h - s) for l, h, s in zip(low, high, start))] = volume[tuple(slice(l, h) for l, h in zip(low, high))]
    return out


def _rotate(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator, degrees: float):
    angles = np.deg2rad(rng.uniform(-degrees, degrees, size=3))
    matrix = np.eye(3)
    for axis, angle in enumerate(angles):
        c, s = math.cos(angle), math.sin(angle)
        plane = [a for a in range(3) if a != axis]
        rotation = np.eye(3)
        rotation[np.ix_(plane, plane)] = [[c, -s], [s, c]]
        matrix = matrix @ rotation
    centre = (np.asarray(image.shape) - 1) / 2
    offset = centre - matrix @ centre
    return (ndi.affine_transform(image, matrix, offset, order=1, mode="nearest"),
            ndi.affine_transform(labels, matrix, offset, order=0, mode="nearest"))


#: Smallest class weight (relative to a mean of 1), so that misplacing the large "outside"
#: class (scalp, face, neck) still costs.
MIN_CLASS_WEIGHT = 0.3


def class_weights(anatomies: Sequence[Anatomy]) -> np.ndarray:
    """Inverse square-root class frequencies, mean 1, floored at :data:`MIN_CLASS_WEIGHT`: small
    regions count without dominating."""
    counts = sum(np.bincount(a.grouped.ravel(), minlength=len(REGION_NAMES)) for a in anatomies).astype(np.float64)
    weights = 1.0 / np.sqrt(np.maximum(counts, 1.0) / counts.sum())
    return np.maximum(weights / weights.mean(), MIN_CLASS_WEIGHT).astype(np.float32)


def train(anatomies: Sequence[Anatomy], examples: Sequence[Example], spec: FutureSpec, net_config: NetConfig,
          config: TrainConfig, log: Callable[[str], None] = print):
    """Train a fresh network; returns ``(model, TrainReport)`` with the model in eval mode."""
    import torch

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    model = build_model(spec, net_config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.learning_rate, total_steps=config.iterations,
                                                   pct_start=0.1)
    sampler = PatchSampler(anatomies, spec, config)
    weights = torch.from_numpy(class_weights(anatomies))
    conditions = torch.from_numpy(np.stack([np.pad(e.condition, (0, 1)) for e in examples]))
    targets = torch.from_numpy(np.stack([e.sources for e in examples])) / config.source_scale
    rng = np.random.default_rng(config.seed + 1)
    started = time.perf_counter()
    segmentation_loss = source_rmse = float("nan")
    iteration = 0
    model.train()
    for iteration in range(1, config.iterations + 1):
        chosen = rng.integers(len(examples), size=config.batch_size)
        patches = [sampler.sample(examples[i].anatomy) for i in chosen]
        image = torch.from_numpy(np.stack([p[0] for p in patches])[:, None].copy())
        labels = torch.from_numpy(np.stack([p[1] for p in patches]).copy())
        logits = model.regions(image)
        segmentation = torch.nn.functional.cross_entropy(logits, labels, weight=weights) + _dice_loss(logits, labels)
        source_error = ((model.sources(conditions) / config.source_scale - targets) ** 2).mean()
        loss = segmentation + source_error
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        segmentation_loss = segmentation.item()
        source_rmse = source_error.sqrt().item() * config.source_scale
        elapsed = time.perf_counter() - started
        if iteration % config.log_every == 0:
            log(f"  iteration {iteration}/{config.iterations}: segmentation loss {segmentation_loss:.3f}, "
                f"source RMSE {source_rmse:.3f} %/yr, {elapsed:.0f} s")
        if elapsed > config.time_limit_s:
            log(f"  stopping at iteration {iteration}: time limit {config.time_limit_s:.0f} s reached")
            break
    model.eval()
    seconds = time.perf_counter() - started
    return model, TrainReport(iteration, seconds, iteration < config.iterations, segmentation_loss, source_rmse)


def fit_rate_head(model, examples: Sequence[Example], config: TrainConfig, steps: int = 400,
                  log: Callable[[str], None] = print) -> float:
    """Train only the condition MLP on ``examples``' sources (full batch, UNet frozen); returns the
    final source RMSE (%/yr)."""
    import torch

    torch.manual_seed(config.seed + 2)
    conditions = torch.from_numpy(np.stack([np.pad(e.condition, (0, 1)) for e in examples]))
    targets = torch.from_numpy(np.stack([e.sources for e in examples])) / config.source_scale
    optimiser = torch.optim.Adam(model.rates.parameters(), lr=3e-3)
    rmse = float("nan")
    for step in range(1, steps + 1):
        error = ((model.sources(conditions) / config.source_scale - targets) ** 2).mean()
        optimiser.zero_grad()
        error.backward()
        optimiser.step()
        rmse = error.sqrt().item() * config.source_scale
    log(f"  rate head refitted: source RMSE {rmse:.3f} %/yr after {steps} steps")
    model.eval()
    return rmse


def _dice_loss(logits, labels):
    """1 − mean soft Dice over the classes present in the batch."""
    import torch

    probabilities = torch.softmax(logits, dim=1)
    one_hot = torch.nn.functional.one_hot(labels, probabilities.shape[1]).permute(0, 4, 1, 2, 3).float()
    dims = (0, 2, 3, 4)
    intersection = (probabilities * one_hot).sum(dims)
    total = probabilities.sum(dims) + one_hot.sum(dims)
    present = one_hot.sum(dims) > 0
    dice = (2 * intersection + 1e-5) / (total + 1e-5)
    return 1 - dice[present].mean()

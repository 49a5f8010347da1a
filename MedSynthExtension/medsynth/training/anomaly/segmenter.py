"""The anomaly segmenter: network, training loop and the exported module with the population maps.

* :func:`train_segmenter` — a MONAI 3D UNet (batch norm, so that the statistics learned on training
  patches are the ones used on the whole volume at run time; one residual unit per level) that sees the
  masked scan and its left–right mirror and predicts, per voxel, the probability that the tissue is
  not healthy brain; trained on :class:`medsynth.training.anomaly.synthetic.SampleMaker` batches with
  binary cross-entropy plus soft Dice inside the brain, Adam and cosine decay. Seeded; a fixed
  iteration count (not a clock), so the same command gives the same network on any machine.
* :func:`make_segmenter_module` — what is exported: the whole 91×109×91 MNI volume in, zero-padded to
  96×112×96, the mirror channel made inside the graph, the probability out, followed by the constant
  population maps the run time needs (:data:`medsynth.tasks.anomaly.space.SEGMENTATION_OUTPUTS`:
  registration template, brain prior and the healthy intensity mean/spread of the z-score baseline),
  stored in float16 as :mod:`medsynth.training.anomaly.model` does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from medsynth.tasks.anomaly.space import MNI_SIZE_XYZ, SEGMENTATION_MAPS
from medsynth.training.anomaly.model import CROP, PADS, downsampled, parameter_count
from medsynth.training.anomaly.synthetic import SampleMaker, SyntheticConfig, with_mirror

Log = Callable[[str], None]
MNI_SHAPE = MNI_SIZE_XYZ[::-1]
#: Maps stored at 4 mm and upsampled in the graph (smooth ones only).
_LOW_RESOLUTION = ("brain_prior", "intensity_sd")


@dataclass(frozen=True)
class SegmenterConfig:
    """Network and optimisation settings (quoted in the card)."""

    channels: tuple[int, ...] = (16, 32, 64, 128)
    iterations: int = 3000
    learning_rate: float = 2e-3
    final_lr_fraction: float = 0.05
    dice_weight: float = 1.0
    seed: int = 0
    threads: int = 2


@dataclass
class SegmenterOutcome:
    network: Any
    iterations: int
    seconds: float
    final_loss: float
    parameters: int


def build_segmenter(channels: Sequence[int]):
    """A fresh ``(N, 2, z, y, x) → (N, 1, z, y, x)`` logit network (torch and MONAI imported here)."""
    from monai.networks.nets import UNet

    return UNet(spatial_dims=3, in_channels=2, out_channels=1, channels=tuple(channels),
                strides=(2,) * (len(channels) - 1), num_res_units=1, norm="BATCH")


def segmentation_loss(logits, labels, masks, dice_weight: float):
    """(total, cross-entropy, Dice loss): binary cross-entropy inside the brain plus ``dice_weight`` ×
    the soft Dice loss of the anomaly class."""
    import torch.nn.functional as F

    inside = masks.sum().clamp(min=1.0)
    bce = (F.binary_cross_entropy_with_logits(logits, labels, reduction="none") * masks).sum() / inside
    probability = logits.sigmoid() * masks
    dice = 1 - (2 * (probability * labels).sum() + 1) / (probability.sum() + labels.sum() + 1)
    return bce + dice_weight * dice, bce, dice


def train_segmenter(maker: SampleMaker, config: SegmenterConfig, log: Log = print) -> SegmenterOutcome:
    """Train a fresh segmenter on ``maker``'s batches; returns it in eval mode."""
    import torch

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    network = build_segmenter(config.channels)
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    started, recent, parts, iteration = time.perf_counter(), [], [], 0
    for iteration in range(1, config.iterations + 1):
        fraction = (iteration - 1) / config.iterations
        for group in optimiser.param_groups:
            group["lr"] = config.learning_rate * (config.final_lr_fraction + (1 - config.final_lr_fraction)
                                                  * 0.5 * (1 + math.cos(math.pi * fraction)))
        inputs, labels, masks = maker.batch()
        loss, bce, dice = segmentation_loss(network(inputs), labels, masks, config.dice_weight)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        recent = (recent + [loss.item()])[-50:]
        parts = (parts + [(bce.item(), dice.item())])[-50:]
        if iteration % 25 == 0:
            mean_bce, mean_dice = np.mean(parts, axis=0)
            log(f"iteration {iteration}/{config.iterations}: loss {np.mean(recent):.4f} (cross-entropy {mean_bce:.4f}, "
                f"Dice loss {mean_dice:.3f}), {(time.perf_counter() - started) / 60:.1f} min")
    network.eval()
    return SegmenterOutcome(network, iteration, time.perf_counter() - started, float(np.mean(recent)),
                            parameter_count(network))


def make_segmenter_module(network, maps: Mapping[str, np.ndarray]):
    """The export module: ``(N, 1, 91, 109, 91)`` masked, normalised scan → ``(N, 5, 91, 109, 91)``:
    the anomaly probability, then the constant maps of :data:`SEGMENTATION_MAPS`."""
    import torch
    import torch.nn.functional as F

    missing = set(SEGMENTATION_MAPS) - set(maps)
    if missing:
        raise ValueError(f"population maps missing: {sorted(missing)}")
    full = [name for name in SEGMENTATION_MAPS if name not in _LOW_RESOLUTION]

    class SegmenterModule(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.network = network
            self.register_buffer("full", torch.from_numpy(np.stack([np.asarray(maps[n], np.float16) for n in full]))[None])
            low = np.stack([downsampled(np.asarray(maps[n], np.float32)) for n in _LOW_RESOLUTION])
            self.register_buffer("low", torch.from_numpy(low.astype(np.float16))[None])

        def forward(self, image):
            zero = (image[:1, :1, :1, :1, :1] * 0.0).to(self.full.dtype)
            # Mirror first, then pad: the mirror is about the MNI grid's midline (x = 0 mm), as in training.
            logits = self.network(F.pad(with_mirror(image), PADS))[(slice(None), slice(None), *CROP)]
            low = F.interpolate((self.low + zero).float(), size=MNI_SHAPE, mode="trilinear", align_corners=True)
            by_name = {**{n: (self.full[:, i:i + 1] + zero).float() for i, n in enumerate(full)},
                       **{n: low[:, i:i + 1] for i, n in enumerate(_LOW_RESOLUTION)}}
            constant = torch.cat([by_name[n] for n in SEGMENTATION_MAPS], dim=1)
            return torch.cat([logits.sigmoid(), constant.expand(image.shape[0], -1, -1, -1, -1)], dim=1)

    return SegmenterModule()

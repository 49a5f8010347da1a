"""The training loop of the denoising autoencoder: L1 to the clean patch inside the brain (voxels the
corruption changed weigh more), Adam, cosine decay.

Seeded (numpy and torch generators from ``config.seed``); the cosine schedule spans
``config.iterations`` and training may stop early after ``config.stop_after`` iterations (a count,
not a clock, so the same command gives the same network on any machine); the card records how
many iterations were done.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from medsynth.training.anomaly.augment import BatchMaker
from medsynth.training.anomaly.model import build_network, parameter_count
from medsynth.training.anomaly.spec import TrainingConfig

Log = Callable[[str], None]
#: Loss weight of voxels the corruption changed by more than :data:`CHANGED_LEVEL` (normalised
#: intensity): healing is what the network has to learn; keeping healthy tissue (weight 1) comes
#: almost for free with the residual parameterisation. Voxels outside the brain weigh 0: their
#: zeros must not teach the network that dark tissue where the atlas expects brain is normal.
CHANGED_WEIGHT = 8.0
CHANGED_LEVEL = 0.1


@dataclass
class TrainingOutcome:
    network: Any
    iterations: int
    seconds: float
    final_loss: float
    parameters: int


def train_network(inputs: Sequence[np.ndarray], masks: Sequence[np.ndarray], prior: np.ndarray, atlas: np.ndarray,
                  config: TrainingConfig, log: Log = print) -> TrainingOutcome:
    """Train a fresh network on the prepared MNI volumes (``atlas``: the healthy template it is
    conditioned on); returns it in eval mode."""
    import torch

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    network = build_network(config.channels)
    maker = BatchMaker(inputs, masks, prior, atlas, config)
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    started = time.perf_counter()
    recent: list[float] = []
    iteration = 0
    for iteration in range(1, config.iterations + 1):
        fraction = (iteration - 1) / config.iterations
        for group in optimiser.param_groups:
            group["lr"] = config.learning_rate * (config.final_lr_fraction + (1 - config.final_lr_fraction)
                                                  * 0.5 * (1 + math.cos(math.pi * fraction)))
        batch = maker.batch()
        output = network(batch.corrupted, batch.atlas)
        changed = ((batch.corrupted - batch.clean).abs() > CHANGED_LEVEL).float()
        weight = batch.mask * (1 + (CHANGED_WEIGHT - 1) * changed)
        loss = (weight * (output - batch.clean).abs()).sum() / weight.sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        recent = (recent + [loss.item()])[-50:]
        minutes = (time.perf_counter() - started) / 60
        if iteration % 50 == 0:
            log(f"iteration {iteration}/{config.iterations}: L1 {np.mean(recent):.4f}, {minutes:.1f} min")
        if config.stop_after is not None and iteration >= config.stop_after:
            log(f"stopping at iteration {iteration} of the {config.iterations}-iteration schedule (stop_after)")
            break
    network.eval()
    return TrainingOutcome(network, iteration, time.perf_counter() - started, float(np.mean(recent)),
                           parameter_count(network))

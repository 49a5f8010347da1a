"""Seeded training of the appearance CVAE on real lesion patches (augmented by flips and 90° turns)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from medsynth.tasks.synthesis.factors import LESION_TYPES
from medsynth.training.synthesis.real_lesions import LesionPatches


@dataclass(frozen=True)
class TrainConfig:
    iterations: int = 800
    batch_size: int = 24
    learning_rate: float = 2e-3
    kl_weight: float = 0.01
    #: Free bits per latent dimension: below this KL the code is not pushed to the prior (against posterior collapse).
    free_bits: float = 0.05
    seed: int = 0
    threads: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


def type_one_hot(types: np.ndarray) -> np.ndarray:
    return np.stack([types == name for name in LESION_TYPES], 1).astype(np.float32)


def condition_vectors(types: np.ndarray, contrast: np.ndarray, latent: np.ndarray) -> np.ndarray:
    """Decoder conditions in the card's order: one-hot type, contrast, z1..zN."""
    return np.concatenate([type_one_hot(types), np.asarray(contrast, np.float32)[:, None],
                           np.asarray(latent, np.float32)], 1)


def _augment(rng: np.random.Generator, *arrays: np.ndarray) -> list[np.ndarray]:
    turns, flip = int(rng.integers(4)), bool(rng.integers(2))
    out = [np.rot90(a, turns, axes=(-2, -1)) for a in arrays]
    return [np.ascontiguousarray(a[..., ::-1] if flip else a) for a in out]


def train_cvae(patches: LesionPatches, config: TrainConfig, log=print):
    """(encoder, decoder, notes) trained on ``patches`` (the training split)."""
    import torch

    from medsynth.training.synthesis.model import Decoder, Encoder

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    encoder, decoder = Encoder(), Decoder()
    optimiser = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.iterations)
    types = type_one_hot(patches.lesion_type)
    contrast = patches.mean_contrast.astype(np.float32)
    started, losses = time.perf_counter(), []
    for step in range(config.iterations):
        pick = rng.integers(len(patches.mask), size=config.batch_size)
        intensity, mask = _augment(rng, patches.intensity[pick], patches.mask[pick].astype(np.float32))
        x, m = torch.from_numpy(intensity)[:, None], torch.from_numpy(mask)[:, None]
        t = torch.from_numpy(types[pick])
        mean, log_var = encoder(x, m, t)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
        mu, log_sd = decoder(m, torch.cat([t, torch.from_numpy(contrast[pick])[:, None], z], 1)).chunk(2, 1)
        region = torch.nn.functional.max_pool2d(m, 3, 1, 1)  # the mask and its 1-voxel rim
        nll = 0.5 * ((x - mu) / log_sd.exp()) ** 2 + log_sd  # Gaussian likelihood of each voxel
        reconstruction = (nll * region).sum() / region.sum()
        kl_per_dim = (-0.5 * (1 + log_var - mean ** 2 - log_var.exp())).mean(0)
        kl = kl_per_dim.sum()
        loss = reconstruction + config.kl_weight * kl_per_dim.clamp(min=config.free_bits).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append((reconstruction.item(), kl.item()))
        if (step + 1) % 250 == 0:
            recent = np.mean(losses[-250:], 0)
            log(f"step {step + 1}/{config.iterations}: NLL {recent[0]:.4f}, KL {recent[1]:.3f}")
    final = np.mean(losses[-100:], 0)
    notes = {"minutes": round((time.perf_counter() - started) / 60, 2), "final_nll": round(float(final[0]), 4),
             "final_kl": round(float(final[1]), 3), "training_patches": int(len(patches.mask))}
    return encoder.eval(), decoder.eval(), notes

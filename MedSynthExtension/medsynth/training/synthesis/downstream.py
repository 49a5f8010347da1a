"""Downstream gain: does adding synthesized lesions help a lesion-present slice classifier find
real lesions? (``Testing/benchmarks/bench_synthesis_downstream.py`` runs it.)

Leave one real lesion scan out at a time. On the other scans the appearance generator is trained
afresh (so the test scan's lesions are never seen), then the same tiny CNN is trained on

* ``real``: the other scans' slices (lesion ≥ 12 voxels = positive, lesion-free = negative);
* ``learned`` / ``procedural``: healthy IXI slices, half with a synthesized lesion (learned
  generator or the procedural baseline), half without;
* ``real+learned`` / ``real+procedural``: both;

and scored on the left-out scan's slices (AUROC, sensitivity and specificity at 0.5), for several
seeds. Every input is brain-masked and divided by its brain median, so skull stripping and scanner
units cannot be what the classifier learns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import numpy as np

from medsynth.tasks.synthesis.anatomy import HealthyVolume
from medsynth.tasks.synthesis.appearance import LearnedAppearance, ProceduralAppearance, sample_lesion
from medsynth.tasks.synthesis.compose import synthesize_case
from medsynth.tasks.synthesis.factors import Factor, LESION_TYPES, sample_factors
from medsynth.training.synthesis.real_lesions import MIN_SLICE_VOXELS, LesionScan, collect_patches, scan_slices
from medsynth.training.synthesis.realism import auroc
from medsynth.training.synthesis.train import TrainConfig, condition_vectors, train_cvae

MIN_BRAIN_FRACTION = 0.4
ARMS = ("real", "learned", "procedural", "real+learned", "real+procedural")


@dataclass(frozen=True)
class SliceSet:
    images: np.ndarray
    labels: np.ndarray

    def __add__(self, other: "SliceSet") -> "SliceSet":
        return SliceSet(np.concatenate([self.images, other.images]), np.concatenate([self.labels, other.labels]))


def real_slices(scan: LesionScan) -> SliceSet:
    grid = scan_slices(scan)
    area, brain_area = grid.lesion.sum((1, 2)), grid.brain.sum((1, 2))
    positive = area >= MIN_SLICE_VOXELS
    negative = (area == 0) & (brain_area >= MIN_BRAIN_FRACTION * brain_area.max())
    keep = positive | negative
    return SliceSet((grid.t1 * grid.brain)[keep], positive[keep].astype(np.float32))


class _TorchPainter(LearnedAppearance):
    """The fold's freshly trained decoder (torch) painting like the exported one."""

    def __init__(self, decoder, correlation: float):
        super().__init__(generator=None)
        self.decoder, self.correlation = decoder, correlation

    def lesion_intensity(self, mask_patch, values, seed):
        import torch

        condition = condition_vectors(np.array([values["lesion_type"]]), np.array([values["lesion_contrast"]]),
                                      np.array([[values[f"z{i}"] for i in range(1, 5)]]))
        with torch.no_grad():
            out = self.decoder(torch.from_numpy(mask_patch.astype(np.float32))[None, None], torch.from_numpy(condition))
        mean, log_sd = out[0].numpy()
        return sample_lesion(mean, log_sd, self.correlation, np.random.default_rng(seed))


def synthetic_slices(volumes: Mapping[str, HealthyVolume], shapes, painter, space: Mapping[str, Factor],
                     count: int, seed: int, type_contrast: Mapping[str, tuple]) -> SliceSet:
    """``count`` cases, alternating healthy and lesion, brain-masked."""
    space = {**space, "lesion_type": replace(space["lesion_type"], draw=tuple(type_contrast))}
    images, labels = [], []
    for index in range(count):
        values = {**sample_factors(space, seed, index, type_contrast), "class": ("healthy", "lesion")[index % 2]}
        case = synthesize_case(volumes[values["anatomy"]], shapes, painter, values, seed, index)
        images.append(case.image * case.brain)
        labels.append(float(case.label.sum() >= MIN_SLICE_VOXELS))
    return SliceSet(np.asarray(images, np.float32), np.asarray(labels, np.float32))


def train_classifier(data: SliceSet, seed: int, steps: int = 200, batch: int = 32):
    """The downstream model: a 3-layer CNN with global pooling, balanced batches, flips."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU(),
                          nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, 1))
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    positives, negatives = np.flatnonzero(data.labels > 0.5), np.flatnonzero(data.labels < 0.5)
    for _ in range(steps):
        pick = np.r_[rng.choice(positives, batch // 2), rng.choice(negatives, batch // 2)]
        images = data.images[pick]
        flip = rng.random(len(pick)) < 0.5
        images[flip] = images[flip][:, :, ::-1]
        loss = nn.functional.binary_cross_entropy_with_logits(
            model(torch.from_numpy(np.ascontiguousarray(images))[:, None])[:, 0], torch.from_numpy(data.labels[pick]))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval()


def score(model, data: SliceSet) -> dict:
    import torch

    with torch.no_grad():
        logits = model(torch.from_numpy(data.images)[:, None])[:, 0].numpy()
    positive = data.labels > 0.5
    return {"auroc": auroc(logits, positive), "sensitivity": float((logits[positive] > 0).mean()),
            "specificity": float((logits[~positive] <= 0).mean())}


def fold_generator(scans: Sequence[LesionScan], iterations: int, seed: int, log: Callable[[str], None]):
    """Decoder, texture correlation and per-type contrast range trained on ``scans`` only."""
    from medsynth.training.synthesis.pipeline import texture_correlation

    patches = collect_patches(list(scans))
    encoder, decoder, _ = train_cvae(patches, TrainConfig(iterations=iterations, seed=seed), log=log)
    contrast = patches.mean_contrast
    ranges = {name: (float(np.percentile(contrast[patches.lesion_type == name], 10)),
                     float(np.percentile(contrast[patches.lesion_type == name], 90)))
              for name in LESION_TYPES if (patches.lesion_type == name).any()}
    return decoder, texture_correlation(encoder, decoder, patches), ranges


def run_downstream(scans: Sequence[LesionScan], volumes: Mapping[str, HealthyVolume], shapes,
                   space: Mapping[str, Factor], seeds: Sequence[int] = (0, 1, 2), synthetic_count: int = 160,
                   generator_iterations: int = 300, classifier_steps: int = 200,
                   log: Callable[[str], None] = print) -> list[dict]:
    """One row per (left-out scan, seed, arm) with the test scores."""
    rows = []
    real = {scan.name: real_slices(scan) for scan in scans}
    for held in scans:
        others = [scan for scan in scans if scan.name != held.name]
        started = time.perf_counter()
        decoder, correlation, ranges = fold_generator(others, generator_iterations, 0, lambda _: None)
        log(f"fold {held.name}: generator on {[s.name for s in others]} ({time.perf_counter() - started:.0f} s)")
        train_real = sum((real[s.name] for s in others[1:]), real[others[0].name])
        for seed in seeds:
            learned = synthetic_slices(volumes, shapes, _TorchPainter(decoder, correlation), space, synthetic_count,
                                       100 + seed, ranges)
            procedural = synthetic_slices(volumes, shapes, ProceduralAppearance(), space, synthetic_count, 100 + seed,
                                          ranges)
            sets = {"real": train_real, "learned": learned, "procedural": procedural,
                    "real+learned": train_real + learned, "real+procedural": train_real + procedural}
            for arm in ARMS:
                model = train_classifier(sets[arm], seed, classifier_steps)
                result = {"test_scan": held.name, "seed": seed, "arm": arm, **score(model, real[held.name]),
                          "train_slices": int(len(sets[arm].labels)), "test_slices": int(len(real[held.name].labels))}
                rows.append(result)
                log(f"  seed {seed} {arm:16s} AUROC {result['auroc']:.3f} sens {result['sensitivity']:.2f} "
                    f"spec {result['specificity']:.2f}")
    return rows


def summarise(rows: Sequence[dict]) -> dict:
    """Per arm: mean and 95 % t-interval over (scan, seed) runs of each score."""
    from scipy import stats

    summary = {}
    for arm in ARMS:
        chosen = [row for row in rows if row["arm"] == arm]
        entry = {}
        for key in ("auroc", "sensitivity", "specificity"):
            values = np.array([row[key] for row in chosen])
            half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
            entry[key] = {"mean": round(float(values.mean()), 3), "ci95": [round(float(values.mean() - half), 3),
                                                                          round(float(values.mean() + half), 3)]}
        entry["runs"] = len(chosen)
        summary[arm] = entry
    return summary

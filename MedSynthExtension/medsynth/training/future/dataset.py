"""Training examples from longitudinal pairs: baseline anatomy on the model grid + target sources.

For every (baseline, follow-up) pair the regional volumes of both visits give each active
region's measured annual log change; on the baseline's anatomy (its parcellation on the model
grid) :mod:`.calibrate` turns those changes into the source strengths the network has to output
for that pair's age, sex and diagnosis. Identical baselines (the simulator's virtual subjects
share an IXI scan) are loaded and calibrated once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.geometry import plan_model_grid, to_model_grid
from medsynth.geometry.grid import GridPlan
from medsynth.io import read_image
from medsynth.normalize import normalize
from medsynth.tasks.future_regions import ACTIVE_REGIONS, group_labels, one_hot
from medsynth.training.future.bids import LongitudinalPair, regional_volumes
from medsynth.training.future.calibrate import fitted_sources, mixing_matrix
from medsynth.training.future.spec import FutureSpec


@dataclass
class Anatomy:
    """One baseline on the model grid: normalised T1 (float32), region indices (uint8), spacing
    (mm, z y x); its mixing matrix (:func:`.calibrate.mixing_matrix`, seconds) on first use."""

    key: str
    image: np.ndarray
    grouped: np.ndarray
    spacing: tuple[float, float, float]

    @cached_property
    def matrix(self) -> np.ndarray:
        return mixing_matrix(one_hot(self.grouped), self.spacing)


@dataclass(frozen=True)
class Example:
    """One pair: which anatomy, its condition vector without years, the measured annual log change
    of each active region (%/yr), the interval, and the target annual sources (%/yr)."""

    anatomy: int
    condition: np.ndarray
    rates: np.ndarray
    years: float
    sources: np.ndarray
    subject: str


def labels_on_grid(labels: sitk.Image, plan: GridPlan) -> sitk.Image:
    """A label map on the model grid: exact re-indexing when possible, else nearest neighbour."""
    if plan.kind == "identity":
        return labels
    if plan.kind == "reorient":
        return sitk.DICOMOrient(labels, plan.orientation)
    return sitk.Resample(labels, plan.reference, sitk.Transform(), sitk.sitkNearestNeighbor, 0, labels.GetPixelID())


def load_anatomy(t1: sitk.Image, labels: sitk.Image, spec: FutureSpec) -> Anatomy:
    """The baseline as the network sees it (same grid and normalisation as the runtime)."""
    plan = plan_model_grid(t1, spec.orientation, spec.spacing_mm)
    image = normalize(sitk.GetArrayFromImage(to_model_grid(t1, plan)), spec.normalization)
    grouped = group_labels(sitk.GetArrayFromImage(labels_on_grid(labels, plan)))
    if grouped.shape != image.shape:
        raise InputError("The parcellation does not cover the T1's grid; it must be the T1's own parcellation.")
    digest = hashlib.sha256(image.tobytes() + grouped.tobytes()).hexdigest()
    return Anatomy(digest, image.astype(np.float32), grouped, spec.spacing_zyx)


def build_examples(pairs: Sequence[LongitudinalPair], spec: FutureSpec,
                   log: Callable[[str], None] = print) -> tuple[list[Anatomy], list[Example]]:
    """Anatomies (deduplicated) and one example per pair; ``log`` reports progress."""
    anatomies: list[Anatomy] = []
    by_key: dict[str, int] = {}
    by_path: dict[str, int] = {}
    examples = []
    for number, pair in enumerate(pairs, 1):
        path_key = str(pair.baseline.t1)
        if path_key not in by_path:
            anatomy = load_anatomy(read_image(pair.baseline.t1), read_image(pair.baseline.dseg), spec)
            if anatomy.key not in by_key:
                by_key[anatomy.key] = len(anatomies)
                anatomies.append(anatomy)
            by_path[path_key] = by_key[anatomy.key]
        index = by_path[path_key]
        anatomy = anatomies[index]
        rates = measured_log_rates(pair)
        fitted = fitted_sources(one_hot(anatomy.grouped), spec.spacing_zyx, anatomy.matrix, rates, pair.years)
        condition = spec.condition_vector(pair.baseline.age, pair.sex, pair.baseline.diagnosis, 0.0)[:spec.years_index]
        examples.append(Example(index, condition, _vector(rates), pair.years, _vector(fitted), pair.subject))
        if number % 10 == 0 or number == len(pairs):
            log(f"  examples: {number}/{len(pairs)} pairs, {len(anatomies)} distinct anatomies")
    return anatomies, examples


def _vector(values: dict[str, float]) -> np.ndarray:
    return np.array([values[name] for name in ACTIVE_REGIONS], dtype=np.float32)


def measured_log_rates(pair: LongitudinalPair) -> dict[str, float]:
    """Annual ``100 ln(V_follow-up / V_baseline)`` of every active region of a pair."""
    if pair.years <= 0:
        raise InputError(f"sub-{pair.subject}: the follow-up ses-{pair.follow_up.session} is not later than the baseline.")
    before, after = regional_volumes(pair.baseline), regional_volumes(pair.follow_up)
    rates = {}
    for name in ACTIVE_REGIONS:
        if before[name] <= 0 or after[name] <= 0:
            raise InputError(f"sub-{pair.subject}: region {name} has no volume at one visit; check the parcellations.")
        rates[name] = 100.0 * float(np.log(after[name] / before[name])) / pair.years
    return rates

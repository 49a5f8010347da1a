"""Simulated progression: a real baseline T1 and its MUSE parcellation → follow-up T1s.

Why simulate: no longitudinal data can be had offline, so the built-in model learns from
follow-ups made by deforming real anatomy (the IXI subjects in ``shared/data/subjects_t1``) with
the literature's regional rates (:mod:`.literature`) for a given diagnosis, age and interval.
Each active region receives the source strength that makes its measured change equal the target
rate on this anatomy (:mod:`.calibrate`); the external CSF takes up the net change; the
deformation is the Poisson flow of :mod:`medsynth.tasks.future_field`.

What is simulated is geometry only: no change of tissue contrast, no new lesions, no scanner
noise or repositioning between visits. The follow-up parcellation is the baseline's carried
through the same warp (nearest neighbour); the follow-up volumes are measured by the volume ratio
over the baseline regions, as predictions are measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import SimpleITK as sitk

from medsynth.tasks.future_field import displacement_transform, exponentiate, velocity_from_change, volume_ratio, warp
from medsynth.tasks.future_regions import ACTIVE_REGIONS, group_labels, one_hot
from medsynth.tasks.future_volumes import volumes_from_labels
from medsynth.training.future.calibrate import log_rate, mixing_matrix, source_map, source_strengths, spacing_zyx
from medsynth.training.future.literature import annual_rate


@dataclass
class FollowUp:
    """One simulated follow-up: image and parcellation on the baseline's grid, regional volumes (mL)
    at baseline and follow-up, the imposed change map (%) and what produced it."""

    image: sitk.Image
    labels: sitk.Image
    years: float
    diagnosis: str
    age: float
    sources: dict[str, float]
    baseline_ml: dict[str, float]
    follow_up_ml: dict[str, float]
    follow_up_label_mm3: dict[int, float] = field(repr=False)
    change: np.ndarray = field(repr=False)

    def measured_percent_per_year(self, region: str) -> float:
        """Simple annualised % change of ``region`` (as the literature quotes rates)."""
        return 100.0 * (self.follow_up_ml[region] / self.baseline_ml[region] - 1.0) / self.years


class ProgressionSimulator:
    """Follow-ups of one subject for any diagnosis, age and interval (calibration done once)."""

    def __init__(self, image: sitk.Image, labels: sitk.Image):
        if image.GetSize() != labels.GetSize():
            raise ValueError("the parcellation must be on the T1's voxel grid")
        self.image = image
        self.labels = labels
        self.grouped = group_labels(sitk.GetArrayViewFromImage(labels))
        self.indicators = one_hot(self.grouped)
        self.spacing = spacing_zyx(image)
        self.voxel_ml = float(np.prod(image.GetSpacing())) / 1000.0

    @cached_property
    def matrix(self) -> np.ndarray:
        """The subject's mixing matrix (see :func:`.calibrate.mixing_matrix`); a few seconds, once."""
        return mixing_matrix(self.indicators, self.spacing)

    def sources(self, diagnosis: str, age: float) -> dict[str, float]:
        """Source strengths (%/yr) that give every active region its literature rate on this anatomy."""
        targets = {name: log_rate(annual_rate(name, diagnosis, age)) for name in ACTIVE_REGIONS}
        return source_strengths(self.matrix, targets)

    def follow_up(self, diagnosis: str, age: float, years: float) -> FollowUp:
        """The simulated scan ``years`` after a baseline at ``age`` with ``diagnosis``."""
        sources = self.sources(diagnosis, age)
        change = source_map(self.indicators, sources, years)
        velocity = velocity_from_change(change, self.spacing)
        transform = displacement_transform(exponentiate(velocity, self.spacing), self.image)
        moved_labels = sitk.Resample(self.labels, self.labels, transform, sitk.sitkNearestNeighbor, 0,
                                     self.labels.GetPixelID())
        ratio = volume_ratio(velocity, self.spacing)
        return FollowUp(warp(self.image, transform), moved_labels, float(years), diagnosis, float(age), sources,
                        volumes_from_labels(self.grouped, self.voxel_ml),
                        volumes_from_labels(self.grouped, self.voxel_ml, ratio),
                        self.label_volumes_mm3(ratio), change.astype(np.float32))

    def label_volumes_mm3(self, ratio: np.ndarray | None = None) -> dict[int, float]:
        """mm³ of every MUSE label (0 excluded) at baseline or after a change ``ratio``: the rows of
        a ``morph.tsv``."""
        values = sitk.GetArrayViewFromImage(self.labels).astype(np.int64).ravel()
        sums = np.bincount(values, weights=None if ratio is None else ratio.astype(np.float64).ravel())
        voxel_mm3 = self.voxel_ml * 1000.0
        return {int(label): float(sums[label]) * voxel_mm3 for label in np.unique(values) if label != 0}

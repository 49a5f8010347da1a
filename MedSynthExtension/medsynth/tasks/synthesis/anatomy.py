"""Healthy anatomy: real T1 scans with a MUSE parcellation, as axial slices on the synthesis grid.

A scan is reoriented to LPS, resampled to 2 mm around its brain's centre and divided by its
brain's median intensity (so 1.0 = typical brain tissue, whatever the scanner's units). Which
slice a case uses depends only on the anatomy factors (subject, region, slice seed), never on
the lesion or style factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.build import image_stem, labels_for
from medsynth.errors import InputError
from medsynth.io import is_image_path, read_image
from medsynth.tasks.synthesis.grid import ORIENTATION, SPACING_MM, resample_to_grid
from medsynth.tasks.synthesis.regions import region_map, region_number

#: A slice qualifies when its brain (or region) area is at least this fraction of the largest one's.
MIN_AREA_FRACTION = 0.5


@dataclass(frozen=True)
class HealthyVolume:
    """One subject on the synthesis grid: T1 / brain median, brain mask, region map (z, y, x)."""

    name: str
    t1: np.ndarray
    brain: np.ndarray
    regions: np.ndarray
    origin_mm: tuple[float, float, float]

    def slice_origin(self, index: int) -> tuple[float, float, float]:
        x, y, z = self.origin_mm
        return (x, y, z + SPACING_MM * index)

    def choose_slice(self, region: str | None, rng: np.random.Generator) -> int:
        """A slice whose brain (or ``region``) area is at least half the largest one's."""
        mask = self.brain if region is None else self.regions == region_number(region)
        areas = mask.sum(axis=(1, 2))
        if areas.max() == 0:
            raise InputError(f"{self.name} has no voxel of region '{region}'.")
        candidates = np.flatnonzero(areas >= MIN_AREA_FRACTION * areas.max())
        return int(rng.choice(candidates))


@dataclass(frozen=True)
class AnatomySource:
    """A healthy T1 scan and its MUSE / DLMUSE label map."""

    name: str
    image: Path
    labels: Path


def find_anatomy(images: Path, labels: Path) -> list[AnatomySource]:
    """Every image of ``images`` with a label map in ``labels`` whose name starts with its stem."""
    images, labels = Path(images), Path(labels)
    if not images.is_dir():
        raise InputError(f"Anatomy folder not found: {images}.")
    found = []
    for path in sorted(p for p in images.iterdir() if is_image_path(p)):
        label_path = labels_for(path, labels)
        if label_path is not None:
            found.append(AnatomySource(image_stem(path), path, label_path))
    if not found:
        raise InputError(f"No scan of {images} has a label map in {labels} (matched by file-name prefix, "
                         "e.g. IXI012-T1.nii.gz ↔ IXI012-T1_DLMUSE.nii.gz).")
    return found


@lru_cache(maxsize=16)
def load_healthy(source: AnatomySource) -> HealthyVolume:
    """``source`` on the synthesis grid (cached: a cohort reuses a few subjects many times)."""
    image = sitk.DICOMOrient(sitk.Cast(read_image(source.image), sitk.sitkFloat32), ORIENTATION)
    labels = sitk.DICOMOrient(read_image(source.labels), ORIENTATION)
    label_array = sitk.GetArrayFromImage(labels)
    brain_index = np.argwhere(label_array > 0)
    if len(brain_index) == 0:
        raise InputError(f"The label map {source.labels} is empty.")
    low, high = brain_index.min(0), brain_index.max(0)
    corners = [labels.TransformIndexToPhysicalPoint([int(v) for v in corner[::-1]]) for corner in (low, high)]
    centre = (np.asarray(corners[0]) + np.asarray(corners[1])) / 2
    depth = int(np.ceil(abs(corners[1][2] - corners[0][2]) / SPACING_MM)) + 1
    t1 = sitk.GetArrayFromImage(resample_to_grid(image, centre, depth, sitk.sitkLinear))
    grid_labels = resample_to_grid(labels, centre, depth, sitk.sitkNearestNeighbor)
    label_grid = sitk.GetArrayFromImage(grid_labels).astype(np.int32)
    brain = ndi.binary_fill_holes(label_grid > 0)
    median = float(np.median(t1[brain]))
    if not median > 0:
        raise InputError(f"{source.image} has no positive intensity inside its brain label map.")
    return HealthyVolume(source.name, (t1 / median).astype(np.float32), brain, region_map(label_grid),
                         tuple(float(v) for v in grid_labels.GetOrigin()))

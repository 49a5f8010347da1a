"""Real lesion shapes (binary masks, any grid) as 2D axial sections, scaled and placed on a slice.

Each mask's largest axial section at 2 mm is one shape. A case's shape is centred on a voxel of
the asked region at least 8 mm inside the brain, kept inside the brain, and scaled until the area
left inside the brain is the asked size. The centre is drawn before the size is known, so size
and location come from their own factors only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.io import is_image_path, read_image
from medsynth.tasks.synthesis.grid import ORIENTATION, PATCH_SIZE, SPACING_MM

VOXEL_AREA_MM2 = SPACING_MM ** 2
#: Shapes smaller than this many voxels at 2 mm are too coarse to rescale.
MIN_SHAPE_VOXELS = 12
#: A lesion's centre lies at least this deep inside the brain (voxels; 8 mm), where the region allows.
PLACEMENT_DEPTH_VOXELS = 4
SCALE_SEARCH_STEPS = 12


def section_area_mm2(volume_ml: float) -> float:
    """Area of the central section of a sphere of ``volume_ml`` — how a volume becomes a 2D size."""
    radius = (3 * volume_ml * 1000 / (4 * math.pi)) ** (1 / 3)
    return math.pi * radius ** 2


def volume_ml_of_section(area_mm2: float) -> float:
    """Inverse of :func:`section_area_mm2`."""
    radius = math.sqrt(area_mm2 / math.pi)
    return 4 / 3 * math.pi * radius ** 3 / 1000


@lru_cache(maxsize=4)
def load_shapes(folder: Path) -> tuple[tuple[str, np.ndarray], ...]:
    """(file stem, boolean 2D section) of every lesion mask in ``folder`` (sorted by name)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"Lesion-shape folder not found: {folder}.")
    shapes = []
    for path in sorted(p for p in folder.iterdir() if is_image_path(p)):
        section = largest_section(read_image(path))
        if section.sum() >= MIN_SHAPE_VOXELS:
            shapes.append((path.name.split(".")[0], section))
    if not shapes:
        raise InputError(f"{folder} holds no lesion mask with a section of at least {MIN_SHAPE_VOXELS} voxels at 2 mm.")
    return tuple(shapes)


def largest_section(mask: sitk.Image) -> np.ndarray:
    """The largest axial section of a binary mask, at 2 mm, cropped to its bounding box."""
    mask = sitk.DICOMOrient(sitk.Cast(mask > 0, sitk.sitkFloat32), ORIENTATION)
    factors = np.asarray(mask.GetSpacing())[::-1] / SPACING_MM
    array = ndi.zoom(sitk.GetArrayFromImage(mask), factors, order=1) >= 0.5
    if not array.any():
        return np.zeros((0, 0), bool)
    section = array[int(np.argmax(array.sum(axis=(1, 2))))]
    rows, cols = np.flatnonzero(section.any(1)), np.flatnonzero(section.any(0))
    return section[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def fits_patch(shape: np.ndarray, area_mm2: float, margin: int = 4) -> bool:
    """Whether ``shape`` scaled to ``area_mm2`` fits the generator's patch (with ``margin`` voxels)."""
    scale = math.sqrt(area_mm2 / VOXEL_AREA_MM2 / shape.sum())
    return max(shape.shape) * scale <= PATCH_SIZE - margin


def choose_shape(shapes: Sequence[tuple[str, np.ndarray]], area_mm2: float,
                 rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """A random shape of ``shapes`` that fits the patch at ``area_mm2`` (compact shapes fit large sizes)."""
    for index in rng.permutation(len(shapes)):
        if fits_patch(shapes[index][1], area_mm2):
            return shapes[index]
    raise InputError(f"No lesion shape fits a {PATCH_SIZE * SPACING_MM:g} mm patch at {area_mm2:.0f} mm²; "
                     "choose a smaller lesion_volume_ml.")


@dataclass(frozen=True)
class PlacedLesion:
    """A lesion mask on the slice, where it is and how big it came out."""

    mask: np.ndarray
    centre: tuple[int, int]
    area_mm2: float


def place_shape(shape: np.ndarray, area_mm2: float, region: np.ndarray, brain: np.ndarray,
                rng: np.random.Generator) -> PlacedLesion:
    """``shape`` centred in ``region`` (2D masks), flipped at random, kept inside ``brain`` and
    scaled so that its area *after* that clipping is ``area_mm2`` (as far as the patch allows).

    The centre is drawn among the region's voxels at least PLACEMENT_DEPTH_VOXELS inside the brain
    before the size is looked at, so the same case keeps its place whatever its size or anatomy."""
    if not region.any():
        raise InputError("The chosen slice has no voxel of the asked region.")
    depth = ndi.distance_transform_edt(brain)
    candidates = np.argwhere(region & (depth >= min(PLACEMENT_DEPTH_VOXELS, depth[region].max())))
    centre = tuple(int(v) for v in candidates[rng.integers(len(candidates))])
    flip = rng.random() < 0.5
    target = area_mm2 / VOXEL_AREA_MM2
    low, high = 0.0, (PATCH_SIZE - 2) / max(shape.shape)  # the largest scale that fits the patch
    scale, best = min(math.sqrt(target / shape.sum()), high), None
    for _ in range(SCALE_SEARCH_STEPS):  # brain clipping and voxel rounding: search the scale (bracketed)
        candidate = _paste(shape, scale, flip, centre, brain)
        if best is None or abs(int(candidate.sum()) - target) < abs(int(best.sum()) - target):
            best = candidate
        if abs(int(candidate.sum()) - target) <= 0.02 * target:
            break
        low, high = (scale, high) if candidate.sum() < target else (low, scale)
        guess = scale * math.sqrt(target / max(int(candidate.sum()), 1))
        scale = guess if low < guess < high else (low + high) / 2
    mask = best
    return PlacedLesion(mask, centre, float(mask.sum() * VOXEL_AREA_MM2))


def _scaled(shape: np.ndarray, scale: float) -> np.ndarray:
    """``shape`` magnified by ``scale`` (continuous: the area grows smoothly with it, unlike
    ``ndi.zoom``, whose output size is rounded to whole voxels)."""
    size = np.ceil(np.asarray(shape.shape) * scale).astype(int) + 2
    offset = (np.asarray(shape.shape) - 1) / 2 - (size - 1) / 2 / scale
    return ndi.affine_transform(shape.astype(np.float32), np.full(2, 1 / scale), offset, tuple(size), order=1) >= 0.5


def _paste(shape: np.ndarray, scale: float, flip: bool, centre: tuple[int, int], brain: np.ndarray) -> np.ndarray:
    scaled = _scaled(shape, scale)
    if flip:
        scaled = scaled[:, ::-1]
    mask = np.zeros(brain.shape, bool)
    points = np.argwhere(scaled) - (np.asarray(scaled.shape) - 1) // 2 + centre
    inside = np.all((points >= 0) & (points < brain.shape), axis=1)
    mask[tuple(points[inside].T)] = True
    return mask & brain

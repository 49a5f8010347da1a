"""Brain masks for anomaly maps, from a population prior after alignment (no skull-stripping model).

Why: an anomaly score is only meaningful inside the brain (skull, scalp, eyes and neck differ
between healthy people far more than brains do). Once a scan is affinely aligned to MNI space,
the voxels that are brain in most healthy subjects (the model's ``brain_prior`` ≥ 0.5) are a
good brain mask, intersected with the scan's own foreground so that a brain-extracted scan or a
short field of view is respected. A mask given by the user replaces the prior.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from medsynth.tasks.masks import foreground_mask_array

#: A scan whose whole foreground is smaller than this (litres) is already brain-extracted: an
#: adult brain is 1.0–1.7 L, an adult head with skull and scalp 3.5–5 L.
BRAIN_EXTRACTED_MAX_LITRES = 2.5


def foreground(image: sitk.Image) -> np.ndarray:
    """Boolean (z, y, x) foreground of a scan: Otsu at half height, largest component, holes filled."""
    spacing_zyx = tuple(float(s) for s in reversed(image.GetSpacing()))
    return foreground_mask_array(sitk.GetArrayViewFromImage(image), spacing_zyx, 0.0, 0.5)


def is_brain_extracted(image: sitk.Image) -> bool:
    """True when the scan's foreground is brain-sized (skull and scalp already removed)."""
    litres = foreground(image).sum() * float(np.prod(image.GetSpacing())) / 1e6
    return bool(litres < BRAIN_EXTRACTED_MAX_LITRES)


def as_mask_image(mask: np.ndarray, like: sitk.Image) -> sitk.Image:
    """A uint8 mask image with ``like``'s geometry."""
    image = sitk.GetImageFromArray(np.asarray(mask, dtype=np.uint8))
    image.CopyInformation(like)
    return image


def mask_on_grid(mask: sitk.Image, reference: sitk.Image, transform: sitk.Transform) -> np.ndarray:
    """A binary mask moved onto ``reference``'s grid (nearest neighbour; ``transform``: reference → mask points)."""
    moved = sitk.Resample(sitk.Cast(mask > 0, sitk.sitkUInt8), reference, transform, sitk.sitkNearestNeighbor, 0)
    return sitk.GetArrayFromImage(moved) > 0

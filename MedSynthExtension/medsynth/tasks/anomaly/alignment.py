"""Putting a scan into the anomaly model's space: registration, brain mask, network input.

Training and run time call the same :func:`align_scan`, so the model is trained on exactly what
it is given later: the scan affinely aligned to the model's healthy template, resampled onto the
2 mm MNI grid, multiplied by its brain mask (zero outside) and normalised as the card says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.models.card import Normalization
from medsynth.normalize import normalize
from medsynth.runtime.sliding_window import CancelCheck
from medsynth.tasks.anomaly.brain_mask import as_mask_image, foreground, is_brain_extracted, mask_on_grid
from medsynth.tasks.anomaly.registration import Registration, register_affine, resample_to
from medsynth.tasks.anomaly.space import PopulationMaps, mni_reference, on_mni_grid
from medsynth.tasks.masks import head_mask

#: Brain-prior level that defines the brain (voxels that are brain in at least half the healthy subjects).
BRAIN_PRIOR_LEVEL = 0.5


@dataclass(frozen=True)
class AlignedScan:
    """A scan in the model's space. Arrays are (z, y, x) on the MNI grid.

    ``mni_image``: the scan's intensities (its own units) on the MNI grid; ``brain_mask``: where the
    model looks; ``network_input``: the masked, normalised input (zero outside the brain).
    """

    registration: Registration
    mni_image: np.ndarray
    brain_mask: np.ndarray
    network_input: np.ndarray
    brain_extracted: bool

    def masked_image(self) -> sitk.Image:
        """The masked scan on the MNI grid (what :func:`medsynth.runtime.run_generator` is given)."""
        return on_mni_grid(np.where(self.brain_mask, self.mni_image, 0.0).astype(np.float32))


def registration_target(maps: PopulationMaps, brain_extracted: bool) -> tuple[sitk.Image, sitk.Image]:
    """The fixed image and metric mask for :func:`register_affine`: the healthy template's head
    (whole-head scans), or its brain (brain-extracted scans, which have no skull to match)."""
    template = on_mni_grid(maps.template)
    brain = maps.brain_mask(BRAIN_PRIOR_LEVEL)
    if brain_extracted:
        fixed = on_mni_grid(np.where(brain, maps.template, 0.0).astype(np.float32))
        return fixed, sitk.BinaryDilate(as_mask_image(brain, template), [3, 3, 3])
    return template, head_mask(template, margin_mm=4.0, threshold_fraction=0.5)


def align_scan(image: sitk.Image, maps: PopulationMaps, normalization: Normalization,
               brain_mask: sitk.Image | None = None, brain_extracted: bool | None = None,
               cancelled: CancelCheck | None = None) -> AlignedScan:
    """Register ``image`` to the model's template and build the network input; ``image`` is not modified.

    ``brain_mask`` (optional, on any grid in the scan's physical space) replaces the prior-based
    mask; ``brain_extracted`` None detects it from the foreground size.
    """
    if brain_extracted is None:
        brain_extracted = is_brain_extracted(image)
    fixed, fixed_mask = registration_target(maps, brain_extracted)
    registration = register_affine(image, fixed, fixed_mask, cancelled)
    reference = mni_reference()
    background = float(sitk.GetArrayViewFromImage(image).min())
    mni_image = sitk.GetArrayFromImage(resample_to(image, reference, registration.transform, default_value=background))
    if brain_mask is not None:
        mask = mask_on_grid(brain_mask, reference, registration.transform)
        if mask.sum() < 1000:
            raise InputError("The brain mask given covers almost nothing of the brain once aligned "
                             f"({int(mask.sum())} voxels of 2 mm); check that it belongs to this scan.")
    else:
        scan_foreground = as_mask_image(foreground(image), image)
        mask = maps.brain_mask(BRAIN_PRIOR_LEVEL) & mask_on_grid(scan_foreground, reference, registration.transform)
    masked = np.where(mask, mni_image, 0.0).astype(np.float32)
    if np.count_nonzero(masked) < 1000:
        raise InputError("Almost no brain tissue was found in the scan after aligning it with the template; "
                         "check that the image is a T1-weighted brain MRI.")
    network_input = normalize(masked, normalization)
    return AlignedScan(registration, mni_image.astype(np.float32), mask, network_input, brain_extracted)


def to_scan_grid(mni_values: np.ndarray, image: sitk.Image, registration: Registration,
                 interpolator: int = sitk.sitkLinear) -> sitk.Image:
    """An MNI-grid map put onto the scan's grid (the inverse of the alignment), float32, 0 outside."""
    moved = sitk.Resample(on_mni_grid(np.asarray(mni_values, np.float32)), image, registration.inverse(),
                          interpolator, 0.0, sitk.sitkFloat32)
    return moved

"""The template space of the anomaly model: SPM's 2 mm MNI box, and the population maps on it.

Why a fixed space: a healthy-brain model is only a good judge of a voxel if it knows what a
healthy brain looks like *there*. The anomaly model therefore sees every scan affinely aligned
to MNI space on one grid (the SPM bounding box x −90…90, y −126…90, z −72…108 mm at 2 mm,
91×109×91 voxels, LAS voxel order) — the grid of the MNI templates and lesion atlases.

The model's ONNX file carries, besides the reconstruction, the population maps the task needs
on that grid (so that one sha256-checked file holds everything): the healthy template used as
registration target, the probability of brain at each voxel, the healthy mean and standard
deviation of the residual (to turn a residual into a score) and of the normalised intensity (the
z-score baseline). They are constant outputs: they do not depend on the input, and
:func:`population_maps` reads them with one forward pass on an empty volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from medsynth.errors import ModelError

#: SPM's 2 mm MNI bounding box (ITK/LPS geometry of templates/avg152T1.nii.gz).
MNI_SIZE_XYZ = (91, 109, 91)
MNI_SPACING_MM = (2.0, 2.0, 2.0)
MNI_ORIGIN_LPS = (-90.0, 126.0, -72.0)
MNI_DIRECTION = (1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0)  # LAS
MNI_ORIENTATION = "LAS"

#: Output channels of a reconstruction anomaly model, in order (the card's ``outputs`` names).
RECONSTRUCTION = "reconstruction"
MAP_CHANNELS = ("template", "brain_prior", "residual_mean", "residual_sd", "intensity_mean", "intensity_sd")
OUTPUT_NAMES = (RECONSTRUCTION, *MAP_CHANNELS)
#: Output channels of a segmentation anomaly model: the probability of not-healthy tissue, then its maps.
PROBABILITY = "anomaly_probability"
SEGMENTATION_MAPS = ("template", "brain_prior", "intensity_mean", "intensity_sd")
SEGMENTATION_OUTPUTS = (PROBABILITY, *SEGMENTATION_MAPS)


def mni_reference() -> sitk.Image:
    """An empty float32 image on the 2 mm MNI grid (the model grid of every anomaly model)."""
    image = sitk.Image(list(MNI_SIZE_XYZ), sitk.sitkFloat32)
    image.SetSpacing(MNI_SPACING_MM)
    image.SetOrigin(MNI_ORIGIN_LPS)
    image.SetDirection(MNI_DIRECTION)
    return image


def on_mni_grid(voxels: np.ndarray) -> sitk.Image:
    """A (z, y, x) array of the MNI grid's shape as an image with the MNI geometry."""
    voxels = np.asarray(voxels)
    if voxels.shape != MNI_SIZE_XYZ[::-1]:
        raise ValueError(f"expected an array of shape {MNI_SIZE_XYZ[::-1]}, got {voxels.shape}")
    image = sitk.GetImageFromArray(voxels)
    image.CopyInformation(mni_reference())
    return image


@dataclass(frozen=True)
class PopulationMaps:
    """Healthy-population maps on the MNI grid, (z, y, x) float32 arrays.

    ``template``: mean normalised healthy head (registration target, intensities in [0, 1]);
    ``brain_prior``: fraction of healthy subjects with brain at the voxel (0–1);
    ``residual_mean`` / ``residual_sd``: mean and standard deviation of the smoothed residual of
    healthy brains (normalised intensity units); ``intensity_mean`` / ``intensity_sd``: mean and
    standard deviation of the normalised healthy intensity (the z-score baseline).
    """

    template: np.ndarray
    brain_prior: np.ndarray
    residual_mean: np.ndarray | None
    residual_sd: np.ndarray | None
    intensity_mean: np.ndarray
    intensity_sd: np.ndarray

    def brain_mask(self, level: float = 0.5) -> np.ndarray:
        """Voxels that are brain in at least ``level`` of the healthy subjects."""
        return self.brain_prior >= level


def population_maps(predict, card_outputs: tuple[str, ...]) -> PopulationMaps:
    """Read the constant population maps of an anomaly model (``predict(batch) -> batch``).

    ``card_outputs`` are the card's output names; they must be :data:`OUTPUT_NAMES` (reconstruction
    model) or :data:`SEGMENTATION_OUTPUTS` (segmentation model), in order.
    """
    if tuple(card_outputs) not in (OUTPUT_NAMES, SEGMENTATION_OUTPUTS):
        raise ModelError(f"An anomaly model must have the outputs {list(OUTPUT_NAMES)} or {list(SEGMENTATION_OUTPUTS)} "
                         f"(its card lists {list(card_outputs)}); this model was not made for MedSynth anomaly maps.")
    empty = np.zeros((1, 1, *MNI_SIZE_XYZ[::-1]), dtype=np.float32)
    raw = predict(empty)[0]
    maps = {name: np.ascontiguousarray(raw[i + 1], dtype=np.float32) for i, name in enumerate(card_outputs[1:])}
    maps.setdefault("residual_mean", None)
    maps.setdefault("residual_sd", None)
    spread = maps["residual_sd"] if maps["residual_sd"] is not None else maps["intensity_sd"]
    if not (maps["brain_prior"] > 0.5).any() or not (spread > 0).all():
        raise ModelError("The anomaly model's population maps are empty or invalid (no brain prior, or a "
                         "spread that is not positive everywhere); re-export the model.")
    return PopulationMaps(**maps)


def is_segmentation_model(card_outputs: tuple[str, ...]) -> bool:
    """Whether the model outputs an anomaly probability (else a healthy reconstruction)."""
    return tuple(card_outputs)[:1] == (PROBABILITY,)

"""Lesion appearance: what intensities the lesion gets inside its mask.

Two painters with one interface, ``paint(slice, lesion, brain, values, seed) -> slice``:

* :class:`LearnedAppearance` — the synthesis model (ONNX): from the lesion mask (a 48 × 48
  patch), the lesion type, its mean contrast and a latent texture code it returns the mean and
  the standard deviation of the lesion's intensity (× brain median), learned from real tumour
  and stroke lesions on T1; a sample adds Gaussian texture of that standard deviation with the
  spatial correlation measured on the training lesions (:func:`sample_lesion`);
* :class:`ProceduralAppearance` — the baseline the anomaly benchmark uses
  (:class:`~medsynth.benchmarks.anomaly.lesions.LesionImplant`): a flat contrast with smooth
  texture.

Both blend with a soft 1 mm border, so only the lesion and its partial-volume rim change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.lesions import LesionImplant
from medsynth.errors import InputError
from medsynth.runtime.conditioning import encode_conditions
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.tasks.synthesis.grid import PATCH_SIZE, SPACING_MM, patch_window

#: Number of latent texture factors (``z1`` … ``zN``) the learned model takes.
LATENT_SIZE = 4
LATENT_NAMES = tuple(f"z{i + 1}" for i in range(LATENT_SIZE))
EDGE_SIGMA_MM = 1.0


def soft_alpha(lesion: np.ndarray) -> np.ndarray:
    """Blend weight: the mask with a Gaussian partial-volume border, 1 inside the lesion."""
    alpha = ndi.gaussian_filter(lesion.astype(np.float32), EDGE_SIGMA_MM / SPACING_MM)
    return np.clip(np.maximum(alpha, lesion * 1.0), 0, 1)


def sample_lesion(mean: np.ndarray, log_sd: np.ndarray, correlation_voxels: float,
                  rng: np.random.Generator) -> np.ndarray:
    """One draw of the decoder's Gaussian: ``mean + sd · noise``, the noise smoothed by a Gaussian
    of ``correlation_voxels`` (0: white) and rescaled to unit standard deviation."""
    noise = rng.standard_normal(mean.shape)
    if correlation_voxels > 0:
        noise = ndi.gaussian_filter(noise, correlation_voxels)
        noise /= max(float(noise.std()), 1e-6)
    return (mean + np.exp(log_sd) * noise).astype(np.float32)


@dataclass
class LearnedAppearance:
    """The ONNX appearance generator of a synthesis model."""

    generator: OnnxGenerator
    name: str = "learned"

    def lesion_intensity(self, mask_patch: np.ndarray, values: Mapping[str, object], seed: int) -> np.ndarray:
        """(48, 48) lesion intensity drawn for a (48, 48) mask patch and the card's conditions."""
        card = self.generator.card
        condition = encode_conditions(card, {c.name: values[c.name] for c in card.conditions})
        mean, log_sd = self.generator.predict(mask_patch.astype(np.float32)[None, None, None], condition)[0, :, 0]
        correlation = float(card.raw.get("factors", {}).get("texture_correlation_voxels", 0.0))
        return sample_lesion(mean, log_sd, correlation, np.random.default_rng(seed))

    def paint(self, image: np.ndarray, lesion: np.ndarray, brain: np.ndarray, values: Mapping[str, object],
              centre: tuple[int, int], seed: int) -> np.ndarray:
        """``image`` (2D) with the lesion painted: pattern from the latent factors, voxel texture from ``seed``."""
        window = patch_window(centre)
        if lesion.sum() != lesion[window].sum():
            raise InputError(f"The lesion does not fit the generator's {PATCH_SIZE}×{PATCH_SIZE} patch; choose a "
                             "smaller lesion_volume_ml.")
        tissue = np.array(image, copy=True)
        tissue[window] = self.lesion_intensity(lesion[window], values, seed)
        alpha = soft_alpha(lesion)
        return ((1 - alpha) * image + alpha * tissue).astype(np.float32)


@dataclass
class ProceduralAppearance:
    """The anomaly benchmark's procedural implant (flat contrast, smooth texture) on one slice."""

    name: str = "procedural"

    def paint(self, image: np.ndarray, lesion: np.ndarray, brain: np.ndarray, values: Mapping[str, object],
              centre: tuple[int, int], seed: int) -> np.ndarray:
        """``image`` (2D) with the lesion implanted at ``values['lesion_contrast']``; texture from ``seed``."""
        implant = LesionImplant(float(values["lesion_contrast"]), edge_sigma_mm=EDGE_SIGMA_MM, seed=seed)
        slice_image = sitk.GetImageFromArray(image.astype(np.float32))
        slice_image.SetSpacing((SPACING_MM, SPACING_MM))
        return sitk.GetArrayFromImage(implant.apply(slice_image, lesion, brain))

"""Implanting real lesion shapes (binary masks in MNI space) into a healthy scan in its own space.

Why real shapes: anomaly detectors are easily flattered by spheres; the SOOP stroke masks have
the irregular, vessel-territory shapes a reader meets. The mask is moved from MNI space onto the
scan's grid through the scan's registration (linear interpolation, ≥ 0.5 = lesion), kept inside
the brain, and the lesion's tissue replaces the healthy tissue:

``new = (1 − a) · old + a · c · B · (1 + t)``

with ``a`` the lesion mask blurred by ``edge_sigma_mm`` (a partial-volume border), ``B`` the
median intensity of the scan's brain, ``c`` the lesion contrast (below 1: hypo-intense, as
chronic infarcts and most tumours on T1; above 1: hyper-intense, as subacute blood or enhancing
lesions) and ``t`` a smooth texture field of standard deviation ``texture_sd`` (lesions are not
flat). The healthy scan is not modified; the label is the lesion inside the brain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

#: Lesion contrast (× the brain's median intensity) per variant and severity.
LESION_CONTRAST = {
    "hypo": {"mild": 0.75, "moderate": 0.6, "severe": 0.4},
    "hyper": {"mild": 1.25, "moderate": 1.4, "severe": 1.6},
}
VARIANTS = tuple(LESION_CONTRAST)


@dataclass(frozen=True)
class LesionImplant:
    """Lesion tissue of contrast ``contrast`` × the brain median, soft border, smooth texture."""

    contrast: float
    edge_sigma_mm: float = 1.0
    texture_sd: float = 0.05
    texture_scale_mm: float = 3.0
    seed: int = 0

    @classmethod
    def from_severity(cls, variant: str, severity: str, seed: int) -> "LesionImplant":
        if variant not in LESION_CONTRAST or severity not in LESION_CONTRAST[variant]:
            raise ValueError(f"variant must be one of {VARIANTS} and severity one of {tuple(LESION_CONTRAST['hypo'])}")
        return cls(LESION_CONTRAST[variant][severity], seed=seed)

    def apply(self, image: sitk.Image, lesion: np.ndarray, brain: np.ndarray) -> sitk.Image:
        """``image`` with the lesion (boolean (z, y, x) on its grid) implanted; ``brain`` sets the
        reference intensity. Returns a new float32 image."""
        voxels = sitk.GetArrayFromImage(image).astype(np.float32)
        spacing_zyx = np.asarray(image.GetSpacing())[::-1]
        alpha = ndi.gaussian_filter(lesion.astype(np.float32), self.edge_sigma_mm / spacing_zyx)
        alpha = np.clip(np.maximum(alpha, lesion * 0.999), 0, 1)
        rng = np.random.default_rng(self.seed)
        texture = ndi.gaussian_filter(rng.standard_normal(voxels.shape).astype(np.float32),
                                      self.texture_scale_mm / spacing_zyx)
        texture *= self.texture_sd / max(float(texture.std()), 1e-6)
        reference = float(np.median(voxels[brain]))
        tissue = self.contrast * reference * (1.0 + texture)
        out = sitk.GetImageFromArray(((1 - alpha) * voxels + alpha * tissue).astype(np.float32))
        out.CopyInformation(image)
        return out


def lesion_on_scan(lesion_mni: sitk.Image, scan: sitk.Image, scan_to_mni: sitk.Transform,
                   brain: np.ndarray) -> np.ndarray:
    """The MNI lesion mask on the scan's grid (``scan_to_mni``: scan → MNI points), inside ``brain``."""
    moved = sitk.Resample(sitk.Cast(lesion_mni > 0, sitk.sitkFloat32), scan, scan_to_mni, sitk.sitkLinear, 0.0)
    return (sitk.GetArrayFromImage(moved) >= 0.5) & brain

"""Acquisition style, applied last to the whole slice: contrast (gamma), blur, Rician noise.

Intensities are in units of the brain's median (1.0). Gamma bends the contrast between tissues
(``x ** gamma``, monotonic, so tissue order is kept); blur is a Gaussian of ``blur_mm`` standard
deviation (a lower-resolution acquisition); noise is Rician (magnitude of complex Gaussian noise
of standard deviation ``noise_sd``), as in a magnitude MR image. Style never changes the label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage as ndi

from medsynth.tasks.synthesis.grid import SPACING_MM


@dataclass(frozen=True)
class AcquisitionStyle:
    contrast_gamma: float = 1.0
    blur_mm: float = 0.0
    noise_sd: float = 0.0

    def apply(self, image: np.ndarray, seed: int) -> np.ndarray:
        out = np.clip(image, 0, None) ** self.contrast_gamma
        if self.blur_mm > 0:
            out = ndi.gaussian_filter(out, self.blur_mm / SPACING_MM)
        if self.noise_sd > 0:
            rng = np.random.default_rng(seed)
            real = out + rng.normal(0, self.noise_sd, out.shape)
            out = np.hypot(real, rng.normal(0, self.noise_sd, out.shape))
        return out.astype(np.float32)

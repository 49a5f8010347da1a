"""Is this image a CT in Hounsfield units? A cheap check before an image is filed or scored as a CT.

Air is about -1000 HU and every head or body CT holds some (outside the patient, sinuses, airways);
an MR's intensities are ≥ 0. An image whose lowest value is above :data:`AIR_HU_CEILING` is therefore
not a CT in HU, whatever its file says.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError

#: Below this lowest value an image can hold air in Hounsfield units (air is about -1000 HU).
AIR_HU_CEILING = -500.0


def check_looks_like_ct(image: sitk.Image | np.ndarray, what: str = "The image", remedy: str = "") -> None:
    """Raise :class:`InputError` naming ``what`` when ``image`` holds no air-like value."""
    values = sitk.GetArrayViewFromImage(image) if isinstance(image, sitk.Image) else np.asarray(image)
    lowest = float(np.min(values))
    if lowest > AIR_HU_CEILING:
        raise InputError(f"{what} does not look like a CT in Hounsfield units: its lowest value is {lowest:g}, "
                         f"while air is about -1000 HU. Is it an MR?{' ' + remedy if remedy else ''}")

"""Is this a T1-weighted brain MRI? Two checks the future-MRI task runs before predicting.

Why: the model was trained on T1 contrast; on a T2, PD or FLAIR image it would still output a
plausible-looking but meaningless deformation. Neither check needs a trained model to be right
about the image, and both explain what they saw.

1. :func:`check_t1_intensity_profile`, before the network runs: around the centre of the head
   (a 30 mm sphere: ventricles, deep white and grey matter) a T1 has a long *dark* tail (CSF)
   and a short bright one, so ``(p50 − p10) / (p90 − p50)`` is well above 1 (1.5–5 on the
   project's real T1s); T2 and PD, where CSF is bright, give 0.2–0.9.
2. :func:`check_t1_contrast`, on the brain regions (the user's parcellation or the model's):
   white matter must be brighter than cortex and cortex brighter than the ventricles.

Known gap: FLAIR also has dark fluid, so check 1 passes it; check 2 refuses its grey/white
contrast when a parcellation is given, but the model's own regions follow T1 appearance (it
calls the brightest tissue white matter) and are fooled.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.tasks.masks import head_mask

#: Radius (mm) of the central sphere the intensity profile is taken over.
CENTRAL_RADIUS_MM = 30.0
#: Smallest ``(p50 − p10) / (p90 − p50)`` accepted as T1-like (T1s: 1.5–5; T2: 0.2; PD: 0.7).
MIN_DARK_TO_BRIGHT_TAIL = 1.0
#: Smallest region volumes (mL) the contrast check needs before it trusts a median.
CONTRAST_MIN_ML = {"white_matter": 50.0, "cortex": 50.0, "ventricles": 1.0}


def dark_to_bright_tail(image: sitk.Image) -> float:
    """``(p50 − p10) / (p90 − p50)`` of the intensities within :data:`CENTRAL_RADIUS_MM` of the
    head's centre (centroid of :func:`medsynth.tasks.masks.head_mask` without margin)."""
    voxels = sitk.GetArrayFromImage(image).astype(np.float32)
    inside = sitk.GetArrayFromImage(head_mask(image, margin_mm=0.0)) > 0
    spacing = np.asarray(image.GetSpacing()[::-1], dtype=np.float64)
    centre = np.argwhere(inside).mean(axis=0)
    grid = np.ogrid[tuple(slice(0, n) for n in voxels.shape)]
    distance_sq = sum(((axis - c) * s) ** 2 for axis, c, s in zip(grid, centre, spacing))
    values = voxels[(distance_sq <= CENTRAL_RADIUS_MM ** 2) & inside]
    if values.size < 100:
        raise InputError("The head in the image is too small to check its contrast; give a whole-head or whole-brain MRI.")
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return float((p50 - p10) / max(p90 - p50, 1e-6 * max(abs(p50), 1.0)))


def check_t1_intensity_profile(image: sitk.Image) -> None:
    """Refuse an image whose central intensities have a bright CSF tail (T2, PD), saying so."""
    ratio = dark_to_bright_tail(image)
    if ratio < MIN_DARK_TO_BRIGHT_TAIL:
        raise InputError(f"The input does not look like a T1-weighted MRI: around the centre of the head its fluid is "
                         f"bright (dark/bright tail ratio {ratio:.2f}, T1 images give more than "
                         f"{MIN_DARK_TO_BRIGHT_TAIL:g}), as in T2 or PD images. The future-MRI model needs a T1-weighted "
                         "scan (e.g. MPRAGE).")


def check_t1_contrast(voxels: np.ndarray, masks: dict[str, np.ndarray], voxel_ml: float) -> None:
    """Refuse an image whose regions are not T1-ordered: white matter brighter than cortex, cortex
    brighter than the ventricles (FLAIR and PD break the first, T2 both). ``masks`` maps
    ``white_matter``/``cortex``/``ventricles`` to boolean masks on ``voxels``' grid."""
    medians = {}
    for name, minimum in CONTRAST_MIN_ML.items():
        mask = masks[name]
        if mask.sum() * voxel_ml < minimum:
            raise InputError(f"No {name.replace('_', ' ')} was found in the input (less than {minimum:g} mL): it does not "
                             "look like a T1-weighted MRI of a whole brain. Give a T1-weighted scan covering the head.")
        medians[name] = float(np.median(voxels[mask]))
    if not medians["white_matter"] > medians["cortex"] > medians["ventricles"]:
        raise InputError("The input does not look like a T1-weighted MRI: in T1, white matter is brighter than cortex and "
                         "cortex brighter than the ventricles, but here the medians are "
                         f"{medians['white_matter']:.4g} (white matter), {medians['cortex']:.4g} (cortex), "
                         f"{medians['ventricles']:.4g} (ventricles). The future-MRI model needs a T1-weighted scan "
                         "(e.g. MPRAGE), not T2, FLAIR or PD.")

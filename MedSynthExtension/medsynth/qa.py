"""Input quality assurance: refuse what a generator cannot handle, with a message that says why.

Every task calls :func:`check_volume` before touching an image, so a 2D screenshot, a 4D
series, a NaN-filled or constant volume, or a header with impossible spacing fails loudly
instead of producing a plausible-looking but meaningless synthetic image.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError

#: Voxel spacings outside this range (mm) are almost always header errors.
SPACING_LIMITS_MM = (0.01, 30.0)
#: A volume needs at least this many voxels along every axis to be a volume.
MIN_VOXELS_PER_AXIS = 4


def check_volume(image: sitk.Image, name: str = "input") -> None:
    """Raise :class:`InputError` unless ``image`` is a usable scalar 3D volume."""
    dimension = image.GetDimension()
    if dimension == 2:
        raise InputError(f"The {name} image is 2D; MedSynth needs a 3D volume (load the whole series, not one slice).")
    if dimension == 4:
        raise InputError(f"The {name} image is 4D (size {image.GetSize()}); extract one 3D frame or volume first.")
    if dimension != 3:
        raise InputError(f"The {name} image has {dimension} dimensions; MedSynth needs a 3D volume.")
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(f"The {name} image has {image.GetNumberOfComponentsPerPixel()} components per voxel "
                         "(colour or vector); MedSynth needs a scalar (greyscale) volume.")
    thin = [size for size in image.GetSize() if size < MIN_VOXELS_PER_AXIS]
    if thin:
        raise InputError(f"The {name} image has size {image.GetSize()}: that is a slice or a thin slab, not a volume. "
                         f"MedSynth needs at least {MIN_VOXELS_PER_AXIS} voxels along every axis.")
    _check_geometry(image, name)
    _check_intensities(sitk.GetArrayViewFromImage(image), name)


def _check_geometry(image: sitk.Image, name: str) -> None:
    spacing = np.asarray(image.GetSpacing(), dtype=float)
    low, high = SPACING_LIMITS_MM
    if not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise InputError(f"The {name} image has zero, negative or undefined voxel spacing {tuple(spacing)}; "
                         "its header is broken. Fix the spacing in the header before running a model.")
    if np.any(spacing < low) or np.any(spacing > high):
        raise InputError(f"The {name} image has voxel spacing {tuple(spacing)} mm, outside {low}–{high} mm; "
                         "the header is probably wrong (e.g. metres or microns). Fix it before running a model.")
    direction = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)
    if not np.all(np.isfinite(direction)) or abs(abs(np.linalg.det(direction)) - 1.0) > 1e-3:
        raise InputError(f"The {name} image has a degenerate orientation matrix; its header is broken.")


def _check_intensities(voxels: np.ndarray, name: str) -> None:
    if np.issubdtype(voxels.dtype, np.floating) and not np.all(np.isfinite(voxels)):
        bad = int(np.count_nonzero(~np.isfinite(voxels)))
        raise InputError(f"The {name} image has {bad} NaN or infinite voxels; fix or mask them before running a model.")
    if voxels.size == 0 or voxels.min() == voxels.max():
        raise InputError(f"The {name} image is empty: every voxel has the same value. Check that the right image was loaded.")


def looks_like_ct(image: sitk.Image) -> bool:
    """True when intensities look like Hounsfield units: much air near −1000 HU and nothing far below.

    MR magnitude images are non-negative (or barely negative after bias correction), so a
    volume with a large mode near −1000 is a CT given where an MR was expected.
    """
    voxels = sitk.GetArrayViewFromImage(image)
    sample = voxels.ravel()[:: max(1, voxels.size // 200_000)].astype(np.float32)
    air = np.count_nonzero((sample > -1100) & (sample < -850))
    return sample.min() >= -3100 and air > 0.05 * sample.size


#: Thickness of the outer shell of the field of view taken as "around the head", as a fraction of each axis.
_SHELL_FRACTION = 0.05
#: The shell must be brighter than the centre by this share of the p1–p99 range to call an MR inverted.
_INVERTED_MARGIN = 0.1
#: About this many voxels are enough for the medians (the run happens before every model pass).
_SAMPLE_VOXELS = 500_000


def check_not_inverted(image: sitk.Image, name: str = "MR") -> None:
    """Refuse an MR whose intensities look negated or inverted (air bright, tissue dark).

    In an MR magnitude image the air around the head, which fills the edges of the field of view,
    is the darkest part. When the median of the outer shell (:data:`_SHELL_FRACTION` of each axis)
    is brighter than the median of the central box (the middle half of each axis, inside the head)
    by more than :data:`_INVERTED_MARGIN` of the p1–p99 range, the image was negated (``-x``) or
    inverted (``max - x``), e.g. by a viewer's "invert" or a wrong rescale; left alone, the domain
    check would call it another contrast and a model would see nonsense.
    """
    voxels = sitk.GetArrayViewFromImage(image)
    if voxels.ndim != 3:
        return
    step = max(1, round((voxels.size / _SAMPLE_VOXELS) ** (1 / 3)))  # medians of a regular subsample
    voxels = voxels[::step, ::step, ::step]
    shell = [max(1, int(round(_SHELL_FRACTION * n))) for n in voxels.shape]
    inner = np.ones(voxels.shape, bool)
    inner[shell[0]:-shell[0], shell[1]:-shell[1], shell[2]:-shell[2]] = False
    border = float(np.median(voxels[inner]))
    z, y, x = (slice(n // 4, n - n // 4) for n in voxels.shape)
    centre = float(np.median(voxels[z, y, x]))
    low, high = (float(v) for v in np.percentile(voxels, (1, 99)))
    if border - centre > _INVERTED_MARGIN * (high - low):
        negated = " (almost every voxel is <= 0: negated)" if high <= 0 else ""
        raise InputError(f"The {name} intensities look negated/inverted{negated}: the edges of the field of view "
                         f"(median {border:g}) are brighter than its centre (median {centre:g}), but in an MR the air "
                         "around the head is the darkest part. Use the scan as acquired, not an inverted copy.")

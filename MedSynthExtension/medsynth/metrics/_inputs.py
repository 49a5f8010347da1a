"""Turning metric inputs (numpy arrays or SimpleITK images) into checked numpy arrays.

Shared by every metric module so that all of them refuse the same bad inputs with the same
messages: different shapes, different voxel grids, empty masks, non-finite values.
"""

from __future__ import annotations

from typing import Union

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError

#: What a metric accepts for a volume: a numpy array (any shape, voxel order as
#: ``sitk.GetArrayFromImage`` gives, i.e. z, y, x) or a SimpleITK image.
ArrayOrImage = Union[np.ndarray, sitk.Image]

#: Relative tolerance on voxel spacing when two images must share a grid. NIfTI stores spacing
#: and origin in float32, so files written by different tools differ by ~1e-7 relative.
SPACING_RTOL = 1e-4
#: Tolerance on the origin, as a fraction of the smallest voxel spacing.
ORIGIN_TOL_VOXELS = 1e-3
#: Absolute tolerance on the direction cosines.
DIRECTION_ATOL = 1e-4


def check_same_grid(images: dict[str, sitk.Image]) -> None:
    """Raise :class:`InputError` unless all ``images`` (name -> image) share one voxel grid.

    Same size exactly; spacing, origin and direction equal within the tolerances above. Voxel-wise
    metrics compare voxel ``i`` of one image with voxel ``i`` of the other, which is only
    meaningful when both voxels sit at the same place in the patient.
    """
    items = list(images.items())
    if len(items) < 2:
        return
    ref_name, ref = items[0]
    hint = (
        f"Resample it onto the grid of '{ref_name}' first "
        f"(for example SimpleITK.Resample(image, {ref_name}_image), linear for images, nearest neighbour for masks)."
    )
    for name, image in items[1:]:
        if image.GetDimension() != ref.GetDimension():
            raise InputError(f"'{name}' is {image.GetDimension()}-D but '{ref_name}' is {ref.GetDimension()}-D.")
        if image.GetSize() != ref.GetSize():
            raise InputError(
                f"'{name}' has size {image.GetSize()} voxels but '{ref_name}' has {ref.GetSize()}. {hint}"
            )
        spacing, ref_spacing = np.array(image.GetSpacing()), np.array(ref.GetSpacing())
        if not np.allclose(spacing, ref_spacing, rtol=SPACING_RTOL, atol=0.0):
            raise InputError(
                f"'{name}' has voxel spacing {tuple(spacing.round(6))} mm but '{ref_name}' has "
                f"{tuple(ref_spacing.round(6))} mm. {hint}"
            )
        origin_gap_mm = float(np.max(np.abs(np.array(image.GetOrigin()) - np.array(ref.GetOrigin()))))
        if origin_gap_mm > ORIGIN_TOL_VOXELS * float(ref_spacing.min()):
            raise InputError(
                f"'{name}' and '{ref_name}' have origins {origin_gap_mm:.4g} mm apart, so their voxels are not "
                f"at the same places. {hint}"
            )
        if not np.allclose(image.GetDirection(), ref.GetDirection(), rtol=0.0, atol=DIRECTION_ATOL):
            raise InputError(
                f"'{name}' and '{ref_name}' have different axis directions (orientation). {hint}"
            )


def to_arrays(volumes: dict[str, ArrayOrImage]) -> dict[str, np.ndarray]:
    """Check that ``volumes`` (name -> array or image) line up voxel for voxel; return numpy views.

    Images are checked with :func:`check_same_grid`; all of them, arrays included, must have the
    same shape. Arrays are returned without copying or casting (callers choose the dtype).
    """
    images = {name: v for name, v in volumes.items() if isinstance(v, sitk.Image)}
    for name, image in images.items():
        if image.GetNumberOfComponentsPerPixel() != 1:
            raise InputError(
                f"'{name}' has {image.GetNumberOfComponentsPerPixel()} components per voxel; "
                "metrics need a scalar (grey-value) image."
            )
    check_same_grid(images)
    arrays: dict[str, np.ndarray] = {}
    for name, volume in volumes.items():
        if isinstance(volume, sitk.Image):
            arrays[name] = sitk.GetArrayViewFromImage(volume)
        elif isinstance(volume, np.ndarray):
            arrays[name] = volume
        else:
            raise InputError(
                f"'{name}' is a {type(volume).__name__}; pass a numpy array or a SimpleITK image "
                "(read files with medsynth.io.read_image)."
            )
    shapes = {name: a.shape for name, a in arrays.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"'{n}' {s}" for n, s in shapes.items())
        raise InputError(f"The inputs must have the same shape, but got {listed}. Resample them onto one grid first.")
    for name, a in arrays.items():
        if a.size == 0:
            raise InputError(f"'{name}' is empty (shape {a.shape}).")
        if a.dtype.kind not in "biuf":
            raise InputError(f"'{name}' has data type {a.dtype}; metrics need real numbers.")
    return arrays


def require_finite(name: str, array: np.ndarray) -> None:
    """Raise :class:`InputError` when ``array`` holds NaN or infinity (a broken model output, usually)."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise InputError(
            f"'{name}' contains {bad} NaN or infinite voxel(s); metrics are undefined. "
            "Check the image (a failed model run writes NaN) and replace or clip those voxels."
        )


def binary_mask(name: str, mask: np.ndarray) -> np.ndarray:
    """Binarise a mask as ``mask > 0`` and refuse an empty one."""
    binary = np.asarray(mask) > 0
    if not binary.any():
        raise InputError(
            f"'{name}' is empty (no voxel > 0): there is nothing to evaluate. "
            "Check that the right mask file was given and that it is not all zeros."
        )
    return binary

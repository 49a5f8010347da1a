"""The synthesis grid: axial slices of 96 × 96 voxels at 2 mm (a 192 mm field of view) in LPS.

Why 2 mm 2D: it is CPU-trainable and -runnable, it holds a whole adult brain's axial section,
and lesions of 0.5 mL and more are still several voxels across.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

SPACING_MM = 2.0
SLICE_SIZE = 96
#: Side of the square patch the appearance generator paints (96 mm: the largest lesion's section fits).
PATCH_SIZE = 48
ORIENTATION = "LPS"


def resample_to_grid(image: sitk.Image, centre_mm: np.ndarray, depth: int, interpolator: int,
                     default: float = 0.0) -> sitk.Image:
    """``image`` on an LPS grid of SLICE_SIZE² × ``depth`` voxels at SPACING_MM, centred on ``centre_mm``."""
    size = (SLICE_SIZE, SLICE_SIZE, depth)
    origin = np.asarray(centre_mm, float) - SPACING_MM * (np.asarray(size) - 1) / 2.0
    reference = sitk.Image(size, sitk.sitkFloat32)
    reference.SetSpacing((SPACING_MM,) * 3)
    reference.SetOrigin(tuple(float(v) for v in origin))
    reference.SetDirection((1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    return sitk.Resample(image, reference, sitk.Transform(), interpolator, default, sitk.sitkFloat32)


def slice_image(array: np.ndarray, origin_mm: tuple[float, float, float], dtype=np.float32) -> sitk.Image:
    """A one-slice 3D image (x, y, 1) on the grid, at ``origin_mm``, from a (y, x) array."""
    image = sitk.GetImageFromArray(np.asarray(array, dtype=dtype)[None])
    image.SetSpacing((SPACING_MM,) * 3)
    image.SetOrigin(tuple(float(v) for v in origin_mm))
    return image


def patch_window(centre: tuple[int, int]) -> tuple[slice, slice]:
    """The PATCH_SIZE² window of a slice centred (as far as it fits) on ``centre`` (row, column)."""
    half = PATCH_SIZE // 2
    starts = [min(max(int(c) - half, 0), SLICE_SIZE - PATCH_SIZE) for c in centre]
    return tuple(slice(s, s + PATCH_SIZE) for s in starts)

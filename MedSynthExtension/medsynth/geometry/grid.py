"""Model grids: the voxel lattice a network expects, derived from its card and the input.

Three plans, cheapest first, so that no interpolation happens when none is needed:

* ``identity`` — the card accepts the native grid: the model sees the input voxels as they are;
* ``reorient`` — only the axis order/flips differ (an axis-aligned input): an exact re-indexing
  with ``DICOMOrient``, undone exactly afterwards;
* ``resample`` — spacing, an oblique direction or a fixed field of view differ: linear
  resampling onto a grid covering the input's extent (or the card's field of view, centred),
  and resampling of the outputs back onto the input's exact grid.

Directions follow ITK (LPS physical space); orientation codes name where each index axis points,
as ``DICOMOrient`` does (``LPS`` is the identity direction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

_AXIS_OF_LETTER = {"L": (0, 1.0), "R": (0, -1.0), "P": (1, 1.0), "A": (1, -1.0), "S": (2, 1.0), "I": (2, -1.0)}
_INTERPOLATORS = {"linear": sitk.sitkLinear, "nearest": sitk.sitkNearestNeighbor, "bspline": sitk.sitkBSpline}


@dataclass(frozen=True)
class GridPlan:
    """How to go from the input's grid to the model's and back (see module docstring)."""

    kind: str
    orientation: str = ""
    reference: sitk.Image | None = None


def orientation_code(image: sitk.Image) -> str:
    """The three-letter code of the closest axis-aligned orientation (e.g. ``RAS``, ``LPS``)."""
    return sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(image.GetDirection())


def direction_of(code: str) -> np.ndarray:
    """3×3 ITK direction matrix (columns = index axes in LPS) of an orientation code."""
    matrix = np.zeros((3, 3))
    for column, letter in enumerate(code.upper()):
        row, sign = _AXIS_OF_LETTER[letter]
        matrix[row, column] = sign
    return matrix


def plan_model_grid(image: sitk.Image, orientation: str, spacing_mm: tuple[float, float, float] | None,
                    field_of_view_mm: tuple[float, float, float] | None = None) -> GridPlan:
    """Choose the cheapest exact plan that gives the grid a card asks for.

    ``orientation`` is a code or ``"native"``; ``spacing_mm`` None means native spacing.
    """
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    axis_aligned = bool(np.allclose(np.abs(direction), np.round(np.abs(direction)), atol=1e-6))
    target_direction = direction if orientation == "native" else direction_of(orientation)
    native_spacing = _spacing_along(image, target_direction)
    spacing_is_native = spacing_mm is None or np.allclose(spacing_mm, native_spacing, rtol=1e-6, atol=1e-6)
    if field_of_view_mm is None and spacing_is_native:
        if orientation == "native" or np.allclose(direction, target_direction, atol=1e-9):
            return GridPlan("identity")
        if axis_aligned:
            return GridPlan("reorient", orientation=orientation.upper())
    spacing = np.asarray(spacing_mm if spacing_mm is not None else native_spacing, dtype=float)
    return GridPlan("resample", reference=covering_grid(image, target_direction, spacing, field_of_view_mm))


def to_model_grid(image: sitk.Image, plan: GridPlan, default_value: float = 0.0) -> sitk.Image:
    """The input as the model must see it; never modifies ``image`` (identity returns it as it is)."""
    if plan.kind == "identity":
        return image
    if plan.kind == "reorient":
        return sitk.DICOMOrient(image, plan.orientation)
    return sitk.Resample(image, plan.reference, sitk.Transform(), sitk.sitkLinear, default_value, sitk.sitkFloat32)


def to_input_grid(output: sitk.Image, input_image: sitk.Image, plan: GridPlan,
                  interpolation: str = "linear", default_value: float = 0.0) -> sitk.Image:
    """A model-grid output put back onto exactly the input's grid (size, spacing, origin, direction).

    With the identity plan ``output`` itself is returned, its header set to the input's.
    """
    if plan.kind == "resample":
        return sitk.Resample(output, input_image, sitk.Transform(), _INTERPOLATORS[interpolation],
                             default_value, output.GetPixelID())
    back = output if plan.kind == "identity" else sitk.DICOMOrient(output, orientation_code(input_image))
    back.CopyInformation(input_image)  # same voxel centres; copying removes float round-off in the header
    return back


def _spacing_along(image: sitk.Image, target_direction: np.ndarray) -> np.ndarray:
    """Input spacing seen along each target axis (the input axis most parallel to it)."""
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    spacing = np.asarray(image.GetSpacing(), dtype=float)
    alignment = np.abs(target_direction.T @ direction)
    return spacing[np.argmax(alignment, axis=1)]


def covering_grid(image: sitk.Image, direction: np.ndarray, spacing: np.ndarray,
                   field_of_view_mm: tuple[float, float, float] | None) -> sitk.Image:
    """A reference image with ``direction``/``spacing`` that covers the input's extent, or a box of
    ``field_of_view_mm`` centred on the input's centre."""
    size_in = np.asarray(image.GetSize())
    corners_index = np.array([[i, j, k] for i in (-0.5, size_in[0] - 0.5) for j in (-0.5, size_in[1] - 0.5)
                              for k in (-0.5, size_in[2] - 0.5)])
    corners = np.array([image.TransformContinuousIndexToPhysicalPoint(tuple(c)) for c in corners_index])
    local = corners @ direction  # coordinates along the target axes
    low, high = local.min(axis=0), local.max(axis=0)
    if field_of_view_mm is not None:
        centre = (low + high) / 2
        low, high = centre - np.asarray(field_of_view_mm) / 2, centre + np.asarray(field_of_view_mm) / 2
    size = np.maximum(np.ceil((high - low) / spacing - 1e-6).astype(int), 1)
    first_centre_local = (low + high) / 2 - (size - 1) * spacing / 2
    reference = sitk.Image([int(s) for s in size], sitk.sitkFloat32)
    reference.SetSpacing([float(s) for s in spacing])
    reference.SetDirection([float(v) for v in direction.ravel()])
    reference.SetOrigin([float(v) for v in direction @ first_centre_local])
    return reference

"""Deformations of the future-MRI task: from a map of imposed local volume change to a warp.

Why this parametrisation: atrophy is a change of *volume*. A velocity field ``v`` whose divergence
is prescribed (``div v = −change / 100``) shrinks or expands each region by the amount asked for;
the curl-free solution (``v = ∇φ`` with ``Δφ = −change / 100``, a Poisson problem) is the smoothest
such field. Integrating it as a stationary flow (scaling and squaring) gives a diffeomorphism:
no folding however long the interval, the identity exactly when the change is zero, and a log
volume change that grows linearly with the interval (constant annual rates compound, as the
literature's exponential model of atrophy has it). The simulator that makes the training data and
the run-time task use these same functions, so the model's output means the same in both.

Conventions (lengths in mm, arrays in SimpleITK's (z, y, x) order, vectors stacked in that order
as mm along the grid's index axes):

* ``change`` maps are ``100 × log`` of the local volume ratio imposed over the interval
  (≈ % change; negative = shrinkage), given on the *baseline*. Their sum over the field of view
  must be zero (the skull does not move): :func:`close_volume_budget`.
* The follow-up image is the baseline pulled back through ``T = exp(v)``: follow-up(x) =
  baseline(T(x)), as ``SimpleITK.Resample`` does.
* The change a baseline voxel undergoes is the Jacobian of the inverse map, ``exp(−v)``, at that
  voxel (:func:`volume_ratio`): regional volumes are measured by summing it over baseline regions
  (tensor-based morphometry in the baseline's space).
"""

from __future__ import annotations

import math

import numpy as np
import SimpleITK as sitk
from scipy import fft
from scipy import ndimage as ndi

from medsynth.errors import InputError

_INTERPOLATORS = {"linear": sitk.sitkLinear, "nearest": sitk.sitkNearestNeighbor, "bspline": sitk.sitkBSpline}
#: Scaling and squaring starts from a field at most this many voxels long (the first-order
#: approximation exp(v) ≈ id + v is accurate there).
_MAX_INITIAL_STEP_VOXELS = 0.5
_MIN_SQUARINGS = 2

Spacing = tuple[float, float, float]


def close_volume_budget(change: np.ndarray, compensating_weight: np.ndarray) -> np.ndarray:
    """A new change map whose total is zero: the net change is spread over ``compensating_weight``.

    Why: the skull does not move, so brain tissue that is lost is replaced by CSF (sulcal
    widening); and the Neumann Poisson problem has a solution only for a zero-sum source.
    ``compensating_weight`` (same shape, ≥ 0) is the external-CSF indicator or probability.
    """
    change = np.asarray(change, dtype=np.float64)
    weight = np.clip(np.asarray(compensating_weight, dtype=np.float64), 0.0, None)
    total_weight = float(weight.sum())
    if total_weight <= 0:
        raise InputError("No external CSF was found to take up the brain's volume change; the image does not look "
                         "like a whole brain (check the field of view).")
    return change - weight * (float(change.sum()) / total_weight)


def velocity_from_change(change: np.ndarray, spacing_zyx: Spacing) -> np.ndarray:
    """Curl-free velocity (3, z, y, x), mm along the array axes, whose divergence is ``−change/100``.

    Solves ``Δφ = −change/100`` with reflecting (Neumann) borders by a type-II discrete cosine
    transform (the eigenbasis of the 7-point Laplacian on this grid), then ``v = ∇φ`` by central
    differences. The mean of ``change`` cannot be represented and is dropped, hence
    :func:`close_volume_budget` first. Returns float32.
    """
    source = -np.asarray(change, dtype=np.float64) / 100.0
    if source.ndim != 3:
        raise ValueError(f"change must be a 3D array, got shape {source.shape}")
    spectrum = fft.dctn(source, type=2, norm="ortho")
    eigenvalues = np.zeros(source.shape)
    for axis, (length, step) in enumerate(zip(source.shape, spacing_zyx)):
        frequencies = (2.0 * np.cos(np.pi * np.arange(length) / length) - 2.0) / float(step) ** 2
        shape = [1, 1, 1]
        shape[axis] = length
        eigenvalues = eigenvalues + frequencies.reshape(shape)
    eigenvalues[0, 0, 0] = 1.0
    spectrum /= eigenvalues
    spectrum[0, 0, 0] = 0.0
    potential = fft.idctn(spectrum, type=2, norm="ortho")
    return np.stack(np.gradient(potential, *[float(s) for s in spacing_zyx])).astype(np.float32)


def exponentiate(velocity: np.ndarray, spacing_zyx: Spacing) -> np.ndarray:
    """Displacement ``u`` of the flow ``exp(v) = id + u`` after unit time (scaling and squaring).

    ``velocity`` and the result are (3, z, y, x) in mm along the array axes. A zero velocity gives
    exactly zero. Each squaring composes the field with itself (``u ← u + u∘(id + u)``, trilinear,
    borders clamped).
    """
    steps = np.asarray(spacing_zyx, dtype=np.float32)[:, None, None, None]
    longest = float(np.max(np.abs(velocity / steps))) if velocity.size else 0.0
    squarings = _MIN_SQUARINGS
    if longest > 0:
        squarings = max(_MIN_SQUARINGS, math.ceil(math.log2(longest / _MAX_INITIAL_STEP_VOXELS)))
    displacement = (np.asarray(velocity, dtype=np.float32) / np.float32(2 ** squarings)).astype(np.float32)
    grid = np.indices(displacement.shape[1:], dtype=np.float32)
    for _ in range(squarings):
        points = grid + displacement / steps
        displacement = displacement + np.stack([ndi.map_coordinates(component, points, order=1, mode="nearest")
                                                for component in displacement])
    return displacement


def jacobian_determinant(displacement: np.ndarray, spacing_zyx: Spacing) -> np.ndarray:
    """``det(I + ∇u)`` of ``x → x + u(x)`` per voxel (central differences), float32."""
    steps = [float(s) for s in spacing_zyx]
    (a, b, c), (d, e, f), (g, h, i) = (np.gradient(displacement[row], *steps) for row in range(3))
    a, e, i = a + 1.0, e + 1.0, i + 1.0
    return (a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)).astype(np.float32)


def volume_ratio(velocity: np.ndarray, spacing_zyx: Spacing) -> np.ndarray:
    """Follow-up / baseline volume of the tissue at each *baseline* voxel: ``det ∇exp(−v)``.

    Summed over a baseline region (times the voxel volume) it gives the region's predicted volume;
    ``100 (ratio − 1)`` is the local % change shown as the change map.
    """
    return jacobian_determinant(exponentiate(-np.asarray(velocity), spacing_zyx), spacing_zyx)


def displacement_transform(displacement: np.ndarray, grid: sitk.Image) -> sitk.DisplacementFieldTransform:
    """The pull-back transform ``x → x + u(x)`` for a displacement given on ``grid``'s voxels.

    ``displacement`` is (3, z, y, x) in mm along ``grid``'s index axes; it is turned into physical
    (LPS) vectors with the grid's direction matrix. Outside the grid the transform is the identity.
    """
    direction = np.asarray(grid.GetDirection(), dtype=np.float64).reshape(3, 3)
    along_index = np.stack([displacement[2], displacement[1], displacement[0]], axis=-1).astype(np.float64)
    field = sitk.GetImageFromArray(along_index @ direction.T, isVector=True)
    field.CopyInformation(grid)
    return sitk.DisplacementFieldTransform(field)


def warp(image: sitk.Image, transform: sitk.Transform, interpolation: str = "linear",
         default_value: float | None = None) -> sitk.Image:
    """``image`` pulled back through ``transform`` onto its own grid (a new image, same pixel type).

    Linear interpolation by default, in the simulator and at run time alike: it never overshoots,
    but it smooths sub-voxel shifts (a 2 mm prediction looks softer than its input). ``"bspline"``
    is sharper; its overshoot at edges is clamped to the input's intensity range.
    ``default_value`` fills points that map outside the image (default: the image's minimum).
    """
    voxels = sitk.GetArrayViewFromImage(image)
    low, high = float(voxels.min()), float(voxels.max())
    moved = sitk.Resample(image, image, transform, _INTERPOLATORS[interpolation],
                          low if default_value is None else float(default_value), image.GetPixelID())
    if interpolation == "bspline":
        moved = sitk.Clamp(moved, image.GetPixelID(), low, high)
    return moved

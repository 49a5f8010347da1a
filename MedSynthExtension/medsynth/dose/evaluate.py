"""One dose evaluation: body and target, plan on CT, recompute on sCT, metrics and difference map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from medsynth.errors import InputError
from medsynth.metrics._inputs import check_same_grid
from medsynth.metrics.dose import DoseComparison, compare_doses
from medsynth.metrics.geometry import body_mask

#: Radius (mm) of the spherical target placed when the user gives none.
AUTO_TARGET_RADIUS_MM = 15.0


@dataclass(frozen=True)
class DoseEvaluation:
    """Metrics, the doses and how the target was chosen."""

    comparison: DoseComparison
    ct_dose: sitk.Image
    sct_dose: sitk.Image
    gamma: sitk.Image
    target_note: str


def auto_target(body: np.ndarray, spacing_zyx: tuple[float, ...]) -> tuple[np.ndarray, str]:
    """A sphere of :data:`AUTO_TARGET_RADIUS_MM` at the body voxel deepest inside the body.

    Deterministic (the first deepest voxel in array order), so every run plans the same target. The
    edge of the field of view counts as outside, so the target never touches it.
    """
    depth = ndimage.distance_transform_edt(np.pad(body, 1), sampling=spacing_zyx)[(slice(1, -1),) * body.ndim]
    if depth.max() < AUTO_TARGET_RADIUS_MM + 10.0:
        raise InputError(
            f"The body is too thin ({depth.max():.0f} mm deep at most) to place a {AUTO_TARGET_RADIUS_MM:g} mm target "
            "inside it; give --target."
        )
    centre = np.unravel_index(int(np.argmax(depth)), depth.shape)
    grid = np.indices(body.shape, dtype=np.float64)
    dist2 = sum(((g - c) * s) ** 2 for g, c, s in zip(grid, centre, spacing_zyx))
    target = dist2 <= AUTO_TARGET_RADIUS_MM**2
    note = f"automatic: sphere of radius {AUTO_TARGET_RADIUS_MM:g} mm at voxel (z, y, x) = {tuple(int(c) for c in centre)}"
    return target, note


def _like(array: np.ndarray, reference: sitk.Image) -> sitk.Image:
    image = sitk.GetImageFromArray(array.astype(np.float32))
    image.CopyInformation(reference)
    return image


def evaluate_dose(
    ct: sitk.Image,
    sct: sitk.Image,
    body: sitk.Image | None = None,
    target: sitk.Image | None = None,
    modality: str = "photon",
) -> DoseEvaluation:
    """Plan on ``ct``, recompute on ``sct``, compare (see :mod:`medsynth.metrics.dose`)."""
    from medsynth.dose.engine import plan_and_recompute  # noqa: PLC0415 - pyRadPlan is optional

    images = {"ct": ct, "sct": sct}
    if body is not None:
        images["mask"] = body
    if target is not None:
        images["target"] = target
    check_same_grid(images)
    ct_hu = sitk.GetArrayFromImage(ct)
    body_arr = sitk.GetArrayViewFromImage(body) > 0 if body is not None else body_mask(ct_hu)
    spacing_zyx = tuple(reversed(ct.GetSpacing()))
    if target is not None:
        target_arr = sitk.GetArrayViewFromImage(target) > 0
        if not target_arr.any():
            raise InputError("The target mask is empty.")
        note = "given"
    else:
        target_arr, note = auto_target(body_arr, spacing_zyx)
    doses = plan_and_recompute(ct, sct, target_arr, body_arr, modality)
    comparison, gamma = compare_doses(
        doses.ct_dose, doses.sct_dose, spacing_zyx, target_arr, doses.prescription_gy
    )
    return DoseEvaluation(
        comparison=comparison,
        ct_dose=_like(doses.ct_dose, ct),
        sct_dose=_like(doses.sct_dose, ct),
        gamma=_like(np.nan_to_num(gamma, nan=0.0), ct),
        target_note=note,
    )

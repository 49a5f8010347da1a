"""One dose evaluation: body and target, plan on CT, recompute on sCT, metrics and difference map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from medsynth.errors import InputError
from medsynth.metrics._inputs import check_same_grid
from medsynth.metrics.dose import DoseComparison, compare_doses, range_shift_mm
from medsynth.metrics.geometry import body_mask

#: Radius (mm) of the spherical target placed when the user gives none.
AUTO_TARGET_RADIUS_MM = 15.0
#: Share of the progress bar the plan on the CT takes (dose influence + optimisation); the rest is the sCTs.
_PLAN_SHARE = 0.5

Progress = Callable[[float], None]


@dataclass(frozen=True)
class DoseEvaluation:
    """Metrics, the doses and how the target was chosen."""

    comparison: DoseComparison
    ct_dose: sitk.Image
    sct_dose: sitk.Image
    gamma: sitk.Image
    target: sitk.Image
    body: sitk.Image
    target_note: str
    #: Proton only: R80(sCT) - R80(CT) on the central ray through the target (mm; > 0 deeper in the sCT);
    #: None for photons or when the dose does not fall off inside the image.
    range_shift_mm: float | None = None


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


def central_ray(dose: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The proton depth-dose line through the target's centre, ordered along the beam (LPS arrays)."""
    from medsynth.dose.engine import PROTON_BEAM_AXIS, PROTON_BEAM_REVERSED  # noqa: PLC0415

    centre = [int(round(c.mean())) for c in np.nonzero(target)]
    centre[PROTON_BEAM_AXIS] = slice(None)
    line = dose[tuple(centre)]
    return line[::-1] if PROTON_BEAM_REVERSED else line


def _range_shift(ct_dose: np.ndarray, sct_dose: np.ndarray, target: np.ndarray, spacing_zyx) -> float | None:
    from medsynth.dose.engine import PROTON_BEAM_AXIS  # noqa: PLC0415

    try:
        return range_shift_mm(central_ray(ct_dose, target), central_ray(sct_dose, target), spacing_zyx[PROTON_BEAM_AXIS])
    except InputError:
        return None


def _orientation(image: sitk.Image) -> str:
    """The image's orientation code (e.g. "LAS"); :class:`InputError` unless its axes are the patient's."""
    direction = np.abs(np.asarray(image.GetDirection()).reshape(3, 3))
    if not np.allclose(np.sort(direction, axis=0), [[0, 0, 0], [0, 0, 0], [1, 1, 1]], atol=1e-4):
        raise InputError("The CT is oblique; dose needs axis-aligned images (resample it first).")
    return sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(image.GetDirection())


def evaluate_doses(
    ct: sitk.Image,
    scts: Mapping[str, sitk.Image],
    body: sitk.Image | None = None,
    target: sitk.Image | None = None,
    modality: str = "photon",
    grid_mm: float | None = None,
    progress: Progress | None = None,
) -> dict[str, DoseEvaluation]:
    """Plan once on ``ct``, recompute that plan on every sCT, compare (see :mod:`medsynth.metrics.dose`).

    Axis-aligned images in any orientation (LAS NIfTI, LPS DICOM) are planned in LPS, which the
    engine needs, and the dose volumes come back in the CT's own orientation.
    """
    from medsynth.dose.engine import plan_on_ct, recompute  # noqa: PLC0415 - pyRadPlan is optional

    if not scts:
        raise InputError("No synthetic CT to evaluate.")
    images = {"ct": ct, **{f"sct '{name}'": image for name, image in scts.items()}}
    if body is not None:
        images["mask"] = body
    if target is not None:
        images["target"] = target
    check_same_grid(images)
    report = progress or (lambda fraction: None)
    orientation = _orientation(ct)

    def lps(image: sitk.Image) -> sitk.Image:
        return sitk.DICOMOrient(image, "LPS")

    ct_lps = lps(ct)
    body_arr = sitk.GetArrayFromImage(lps(body)) > 0 if body is not None else body_mask(sitk.GetArrayFromImage(ct_lps))
    spacing_zyx = tuple(reversed(ct_lps.GetSpacing()))
    if target is not None:
        target_arr = sitk.GetArrayFromImage(lps(target)) > 0
        if not target_arr.any():
            raise InputError("The target mask is empty.")
        note = "given"
    else:
        target_arr, note = auto_target(body_arr, spacing_zyx)
    plan = plan_on_ct(ct_lps, target_arr, body_arr, modality, grid_mm)
    report(_PLAN_SHARE)

    def back(array: np.ndarray) -> sitk.Image:
        return sitk.DICOMOrient(_like(array, ct_lps), orientation)

    target_image, body_image = (sitk.Cast(back(mask), sitk.sitkUInt8) for mask in (target_arr, body_arr))
    results = {}
    for index, (name, sct) in enumerate(scts.items(), start=1):
        sct_dose = recompute(plan, lps(sct))
        comparison, gamma = compare_doses(plan.ct_dose, sct_dose, spacing_zyx, target_arr, plan.prescription_gy)
        shift = _range_shift(plan.ct_dose, sct_dose, target_arr, spacing_zyx) if modality == "proton" else None
        results[name] = DoseEvaluation(comparison=comparison, ct_dose=back(plan.ct_dose), sct_dose=back(sct_dose),
                                       gamma=back(np.nan_to_num(gamma, nan=0.0)), target=target_image,
                                       body=body_image, target_note=note, range_shift_mm=shift)
        report(_PLAN_SHARE + (1 - _PLAN_SHARE) * index / len(scts))
    return results


def evaluate_dose(
    ct: sitk.Image,
    sct: sitk.Image,
    body: sitk.Image | None = None,
    target: sitk.Image | None = None,
    modality: str = "photon",
    grid_mm: float | None = None,
    progress: Progress | None = None,
) -> DoseEvaluation:
    """Plan on ``ct``, recompute on ``sct``, compare (one sCT of :func:`evaluate_doses`)."""
    return evaluate_doses(ct, {"sct": sct}, body, target, modality, grid_mm, progress)["sct"]

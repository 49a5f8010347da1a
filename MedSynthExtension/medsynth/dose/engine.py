"""Plan on the real CT with pyRadPlan, recompute the same fluence (or spot weights) on the sCT.

pyRadPlan (DKFZ's Python matRad, BSD-3) is the engine SynthRAD's dose evaluation runs. It needs
numpy < 2.4 and pydantic 2.11, so it lives in the optional extra ``dose`` (and its own venv, built
by ``make dose-venv``); nothing else in medsynth imports it.

The plan is fixed so that a run is reproducible: photons, 5 coplanar fields at 0/72/144/216/288°,
5 mm bixels; protons, one field at 90° (lateral) with the generic machine's spots. The isocentre is
the target's centre of mass. Optimisation: squared deviation to the prescription in the target,
squared overdosing of the body; the weights found on the CT are applied unchanged on the sCT.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError, MedSynthError

Modality = Literal["photon", "proton"]
MODALITIES: tuple[str, ...] = ("photon", "proton")
#: Gantry angles (degrees) of the fixed plans.
GANTRY_ANGLES = {"photon": [0.0, 72.0, 144.0, 216.0, 288.0], "proton": [90.0]}
#: Where the proton field goes in an LPS array (z, y, x): along x towards lower indices (it enters on the
#: patient's left), measured on the skull phantom of Testing/dose/test_skull_range.py, which fails otherwise.
PROTON_BEAM_AXIS, PROTON_BEAM_REVERSED = 2, True
#: Prescription per fraction (Gy); the metrics are relative to it, so its value only scales.
PRESCRIPTION_GY = 2.0
#: Finest dose grid the engine is run on (mm); a finer CT is planned on this grid.
MIN_DOSE_GRID_MM = 2.0
#: More dose-grid voxels than this make the dose influence matrix too big for a workstation.
MAX_DOSE_GRID_VOXELS = 4_000_000


@dataclass(frozen=True)
class Plan:
    """A plan optimised on the real CT, ready to be recomputed on any sCT of the same grid.

    ``ct_dose`` is on the CT grid (Gy per fraction); the other fields are pyRadPlan's own objects.
    """

    ct_dose: np.ndarray
    prescription_gy: float
    modality: str
    grid_mm: float
    reference: sitk.Image
    target: np.ndarray
    body: np.ndarray
    steering: object
    plan: object
    weights: np.ndarray


def import_engine():
    """pyRadPlan, or a one-line :class:`MedSynthError` saying how to install it (callers check early)."""
    try:
        import pyRadPlan  # noqa: PLC0415 - optional, heavy, numpy-pinned
    except ImportError as exc:
        raise MedSynthError(
            "Dose evaluation needs pyRadPlan, which is not installed here. Install the optional extra "
            "(pip install 'medsynth[dose]') in its own environment, or run `make dose-venv`."
        ) from exc
    logging.getLogger("pyRadPlan").setLevel(logging.WARNING)
    return pyRadPlan


def stopping_power_ratio(hu: np.ndarray) -> np.ndarray:
    """Proton stopping power relative to water for ``hu``: the engine's own HU table (pyRadPlan's
    default HLUT, piecewise linear), the calibration every proton dose here is computed with."""
    from pyRadPlan.ct import default_hlut  # noqa: PLC0415

    table = default_hlut("protons")
    return np.interp(np.asarray(hu, dtype=np.float64), table[:, 0], table[:, 1])


def dose_grid_mm(ct: sitk.Image, requested_mm: float | None = None) -> float:
    """Isotropic dose-grid spacing for ``ct`` (``requested_mm``, default the CT's coarsest spacing,
    never finer than :data:`MIN_DOSE_GRID_MM`); raises :class:`InputError` when the grid is unusable."""
    if requested_mm is not None and not MIN_DOSE_GRID_MM <= requested_mm <= 10.0:
        raise InputError(f"The dose grid must be {MIN_DOSE_GRID_MM:g} to 10 mm, got {requested_mm:g} mm.")
    spacing = requested_mm or max(MIN_DOSE_GRID_MM, float(max(ct.GetSpacing())))
    voxels = np.prod([n * s / spacing for n, s in zip(ct.GetSize(), ct.GetSpacing())])
    if ct.GetDimension() != 3:
        raise InputError(f"The CT is {ct.GetDimension()}-D; dose needs a 3-D CT.")
    if voxels > MAX_DOSE_GRID_VOXELS:
        raise InputError(
            f"The CT covers {voxels:.3g} dose voxels at {spacing:g} mm (limit {MAX_DOSE_GRID_VOXELS:g}); "
            "crop it to the head or resample it to a coarser grid first."
        )
    if not np.allclose(np.array(ct.GetDirection()), np.eye(3).ravel(), atol=1e-4):
        raise InputError("The CT is not axis-aligned; resample it to an identity direction first.")
    return spacing


def _structures(prp, ct_obj, target: np.ndarray, body: np.ndarray, reference: sitk.Image, prescription: float):
    from pyRadPlan.cst import ExternalVOI, Target  # noqa: PLC0415
    from pyRadPlan.optimization.objectives import SquaredDeviation, SquaredOverdosing  # noqa: PLC0415

    def mask_image(mask: np.ndarray) -> sitk.Image:
        image = sitk.GetImageFromArray(mask.astype(np.uint8))
        image.CopyInformation(reference)
        return image

    vois = [
        Target(name="PTV", ct_image=ct_obj, mask=mask_image(target),
               objectives=[SquaredDeviation(d_ref=prescription, priority=1.0)]),
        ExternalVOI(name="BODY", ct_image=ct_obj, mask=mask_image(body & ~target),
                    objectives=[SquaredOverdosing(d_max=0.5 * prescription, priority=0.1)]),
    ]
    return prp.StructureSet(vois=vois, ct_image=ct_obj)


def _plan(prp, modality: str, spacing: float, prescription: float):
    if modality == "photon":
        pln = prp.PhotonPlan(machine="Generic")
    else:
        pln = prp.IonPlan(radiation_mode="protons", machine="Generic")
    pln.prescribed_dose = prescription
    pln.num_of_fractions = 1
    angles = GANTRY_ANGLES[modality]
    pln.prop_stf = {"gantry_angles": angles, "couch_angles": [0.0] * len(angles), "bixel_width": 5.0}
    pln.prop_dose_calc = {"dose_grid": {"resolution": {"x": spacing, "y": spacing, "z": spacing}}}
    pln.prop_opt = {"solver": "scipy"}
    return pln


def plan_on_ct(
    ct: sitk.Image, target: np.ndarray, body: np.ndarray, modality: str = "photon", grid_mm: float | None = None
) -> Plan:
    """Optimise the fixed plan on ``ct`` for ``target`` (boolean array, numpy order) inside ``body``."""
    if modality not in MODALITIES:
        raise InputError(f"Unknown modality '{modality}'; choose one of {', '.join(MODALITIES)}.")
    spacing = dose_grid_mm(ct, grid_mm)
    prp = import_engine()
    np.random.seed(0)
    ct_obj = prp.CT(cube_hu=sitk.Cast(ct, sitk.sitkFloat32))
    cst = _structures(prp, ct_obj, target, body, ct, PRESCRIPTION_GY)
    pln = _plan(prp, modality, spacing, PRESCRIPTION_GY)
    stf = prp.generate_stf(ct_obj, cst, pln)
    dij = prp.calc_dose_influence(ct_obj, cst, stf, pln)
    weights = prp.fluence_optimization(ct_obj, cst, stf, dij, pln)
    ct_dose = _array(dij.compute_result_ct_grid(weights)["physical_dose"])
    return Plan(ct_dose=ct_dose, prescription_gy=PRESCRIPTION_GY, modality=modality, grid_mm=spacing,
                reference=ct, target=target, body=body, steering=stf, plan=pln, weights=weights)


def recompute(plan: Plan, sct: sitk.Image) -> np.ndarray:
    """The dose of ``plan`` (same fluence / spot weights) on ``sct``, on the CT grid (Gy per fraction)."""
    prp = import_engine()
    sct_obj = prp.CT(cube_hu=sitk.Cast(sct, sitk.sitkFloat32))
    cst = _structures(prp, sct_obj, plan.target, plan.body, plan.reference, plan.prescription_gy)
    return _array(prp.calc_dose_forward(sct_obj, cst, plan.steering, plan.plan, plan.weights)["physical_dose"])


def _array(dose: sitk.Image) -> np.ndarray:
    return np.asarray(sitk.GetArrayFromImage(dose), dtype=np.float64)

"""Dose metrics for a synthetic CT: the plan made on the real CT, recomputed on the sCT, compared.

Reference dose = dose on the real CT, evaluated dose = the same plan (same fluence or spots) on the
sCT. Definitions (SynthRAD's dose evaluation; README "Dose metrics"):

- **Gamma pass rate** (global, 2 %/2 mm, 10 % low-dose cut-off): for every reference voxel r with
  D_ref(r) >= 10 % of max(D_ref), Γ(r) = min over points r' of
  sqrt(|r' - r|² / DTA² + (D_eval(r') - D_ref(r))² / (2 % · max(D_ref))²), with D_eval linearly
  interpolated between voxel centres and r' searched on a grid of step DTA / ``interp_fraction``
  within ``max_gamma`` · DTA of r (points outside the volume are not candidates). Pass: Γ <= 1.
  Γ above ``max_gamma`` is reported as ``max_gamma`` (it does not change the pass rate).
- **Dose MAE** (% of prescription) = mean |D_eval - D_ref| over the voxels with
  D_ref >= 90 % of the prescription, divided by the prescription.
- **DVH**: D98 of the target (the dose at least 98 % of its volume receives, = the 2nd percentile of
  its voxel doses), Paddick conformity index (TV ∩ PIV)² / (TV · PIV) with PIV the volume receiving
  >= the prescription; for organs at risk D2 (98th percentile) and the mean. Differences are
  sCT minus CT, in % of the prescription.
- **Proton range** along a line ordered in the beam's direction: the distal 80 % depth R80, the
  depth beyond the dose maximum where the dose first falls below 80 % of that maximum (linear
  interpolation between samples); range shift = R80(sCT) - R80(CT) in mm, positive when the beam
  goes deeper in the sCT (a stopping power too low upstream).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy.ndimage import map_coordinates

from medsynth.errors import InputError

#: Dose difference criterion, % of the maximum reference dose (global gamma).
GAMMA_DOSE_PERCENT = 2.0
#: Distance-to-agreement criterion (mm).
GAMMA_DTA_MM = 2.0
#: Reference voxels below this % of the maximum reference dose are not evaluated.
GAMMA_LOW_DOSE_CUTOFF_PERCENT = 10.0
#: Voxels with a reference dose at least this fraction of the prescription enter the dose MAE.
DOSE_MAE_THRESHOLD = 0.9


def _search_offsets(dta_mm: float, max_gamma: float, interp_fraction: int, ndim: int) -> np.ndarray:
    """Offsets (mm) on a cubic grid of step DTA/interp_fraction inside the ball of radius max_gamma·DTA,
    sorted by length, the zero offset first."""
    step = dta_mm / interp_fraction
    n = int(np.floor(max_gamma * interp_fraction))
    axis = np.arange(-n, n + 1) * step
    grid = np.stack(np.meshgrid(*([axis] * ndim), indexing="ij"), axis=-1).reshape(-1, ndim)
    length = np.linalg.norm(grid, axis=1)
    keep = length <= max_gamma * dta_mm + 1e-9
    grid, length = grid[keep], length[keep]
    return grid[np.argsort(length, kind="stable")]


def gamma_index(
    reference: np.ndarray,
    evaluation: np.ndarray,
    spacing: Sequence[float],
    dose_percent: float = GAMMA_DOSE_PERCENT,
    dta_mm: float = GAMMA_DTA_MM,
    cutoff_percent: float = GAMMA_LOW_DOSE_CUTOFF_PERCENT,
    max_gamma: float = 2.0,
    interp_fraction: int = 5,
) -> np.ndarray:
    """Global gamma of ``evaluation`` against ``reference`` (same grid); NaN below the cut-off.

    Points are searched in order of increasing distance; a voxel stops being searched once the
    distance term alone exceeds its best Γ so far, which is what keeps a 3-D search affordable.
    """
    reference = np.asarray(reference, dtype=np.float64)
    evaluation = np.asarray(evaluation, dtype=np.float64)
    if reference.shape != evaluation.shape:
        raise InputError(f"The two doses have shapes {reference.shape} and {evaluation.shape}; use one grid.")
    if len(spacing) != reference.ndim:
        raise ValueError(f"spacing has {len(spacing)} values for a {reference.ndim}-D dose")
    norm = float(reference.max())
    if norm <= 0:
        raise InputError("The reference dose is zero everywhere; gamma is undefined.")
    dose_tol = dose_percent / 100.0 * norm
    evaluated = reference >= cutoff_percent / 100.0 * norm
    points = np.argwhere(evaluated).astype(np.float64)  # voxel indices of the evaluated voxels
    ref_values = reference[evaluated]
    best = np.full(len(points), np.inf)
    spacing_arr = np.asarray(spacing, dtype=np.float64)
    upper = np.asarray(reference.shape, dtype=np.float64) - 1.0
    active = np.arange(len(points))
    for offset in _search_offsets(dta_mm, max_gamma, interp_fraction, reference.ndim):
        distance_term = float(np.sum((offset / dta_mm) ** 2))
        active = active[best[active] > distance_term]
        if active.size == 0:
            break
        coords = points[active] + offset / spacing_arr
        inside = np.all((coords >= 0.0) & (coords <= upper), axis=1)
        idx, coords = active[inside], coords[inside]
        if idx.size == 0:
            continue
        values = map_coordinates(evaluation, coords.T, order=1, mode="nearest")
        gamma_sq = distance_term + ((values - ref_values[idx]) / dose_tol) ** 2
        best[idx] = np.minimum(best[idx], gamma_sq)
    gamma = np.full(reference.shape, np.nan)
    gamma[evaluated] = np.minimum(np.sqrt(best), max_gamma)
    return gamma


def gamma_pass_rate(gamma: np.ndarray) -> float:
    """Percentage of evaluated (non-NaN) voxels with Γ <= 1."""
    valid = gamma[~np.isnan(gamma)]
    if valid.size == 0:
        raise InputError("No voxel is above the gamma low-dose cut-off.")
    return 100.0 * float(np.count_nonzero(valid <= 1.0)) / valid.size


def dose_mae_percent(reference: np.ndarray, evaluation: np.ndarray, prescription: float) -> float:
    """Mean |D_eval - D_ref| over voxels with D_ref >= 90 % of the prescription, in % of it."""
    if prescription <= 0:
        raise InputError(f"The prescription must be positive, got {prescription}.")
    high = np.asarray(reference) >= DOSE_MAE_THRESHOLD * prescription
    if not high.any():
        raise InputError("No voxel of the reference dose reaches 90 % of the prescription; check the plan.")
    diff = np.abs(np.asarray(evaluation, np.float64)[high] - np.asarray(reference, np.float64)[high])
    return 100.0 * float(diff.mean()) / prescription


def d_percent(dose: np.ndarray, structure: np.ndarray, volume_percent: float) -> float:
    """D_x: the dose at least ``volume_percent`` % of the structure receives."""
    values = np.asarray(dose)[np.asarray(structure) > 0]
    if values.size == 0:
        raise InputError("The structure is empty; DVH metrics are undefined.")
    return float(np.percentile(values, 100.0 - volume_percent))


def paddick_conformity(dose: np.ndarray, target: np.ndarray, prescription: float) -> float:
    """(TV ∩ PIV)² / (TV · PIV), PIV = voxels receiving at least the prescription; 0 when PIV is empty."""
    target = np.asarray(target) > 0
    piv = np.asarray(dose) >= prescription
    if not piv.any():
        return 0.0
    overlap = float(np.count_nonzero(target & piv))
    return overlap**2 / (float(target.sum()) * float(piv.sum()))


#: Dose level (fraction of the maximum) that defines the distal range R80.
RANGE_LEVEL = 0.8


def distal_range_mm(profile: np.ndarray, spacing_mm: float, level: float = RANGE_LEVEL) -> float:
    """R80 of a depth-dose ``profile`` ordered along the beam, in mm from its first sample."""
    profile = np.asarray(profile, dtype=np.float64)
    if profile.ndim != 1 or profile.size < 2 or profile.max() <= 0:
        raise InputError("A depth-dose profile needs at least two samples and some dose.")
    peak = int(np.argmax(profile))
    threshold = level * profile[peak]
    below = np.flatnonzero(profile[peak:] < threshold)
    if below.size == 0:
        raise InputError("The dose does not fall off within the profile; the range is beyond its end.")
    after = peak + int(below[0])
    before = after - 1
    fraction = (profile[before] - threshold) / (profile[before] - profile[after])
    return (before + fraction) * spacing_mm


def range_shift_mm(ct_profile: np.ndarray, sct_profile: np.ndarray, spacing_mm: float) -> float:
    """R80(sCT) - R80(CT) along one line ordered along the beam (mm; > 0: the sCT beam goes deeper)."""
    return distal_range_mm(sct_profile, spacing_mm) - distal_range_mm(ct_profile, spacing_mm)


@dataclass(frozen=True)
class DVHMetrics:
    """DVH figures of one dose, in the dose's unit."""

    target_d98: float
    target_conformity: float
    oar_d2: dict[str, float]
    oar_mean: dict[str, float]


def dvh_metrics(
    dose: np.ndarray, target: np.ndarray, prescription: float, oars: dict[str, np.ndarray] | None = None
) -> DVHMetrics:
    """Target D98 and conformity; D2 and mean dose of every organ at risk."""
    oars = oars or {}
    return DVHMetrics(
        target_d98=d_percent(dose, target, 98.0),
        target_conformity=paddick_conformity(dose, target, prescription),
        oar_d2={name: d_percent(dose, m, 2.0) for name, m in oars.items()},
        oar_mean={name: float(np.asarray(dose)[np.asarray(m) > 0].mean()) for name, m in oars.items()},
    )


@dataclass(frozen=True)
class DoseComparison:
    """Everything reported for one CT/sCT dose pair."""

    gamma_pass_rate_percent: float
    dose_mae_percent: float
    ct: DVHMetrics
    sct: DVHMetrics

    def as_dict(self) -> dict:
        """Plain dict for JSON output."""
        return asdict(self)


def compare_doses(
    ct_dose: np.ndarray,
    sct_dose: np.ndarray,
    spacing: Sequence[float],
    target: np.ndarray,
    prescription: float,
    oars: dict[str, np.ndarray] | None = None,
) -> tuple[DoseComparison, np.ndarray]:
    """Gamma pass rate, dose MAE and DVH on both doses; also returns the gamma map."""
    gamma = gamma_index(ct_dose, sct_dose, spacing)
    comparison = DoseComparison(
        gamma_pass_rate_percent=gamma_pass_rate(gamma),
        dose_mae_percent=dose_mae_percent(ct_dose, sct_dose, prescription),
        ct=dvh_metrics(ct_dose, target, prescription, oars),
        sct=dvh_metrics(sct_dose, target, prescription, oars),
    )
    return comparison, gamma

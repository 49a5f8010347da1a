"""Source strengths that give each region the volume change asked for, on one subject's anatomy.

Why: the Poisson velocity (:mod:`medsynth.tasks.future_field`) spreads a region's imposed change a
little into its neighbours at 2 mm (central differences cannot follow a one-voxel-thin cortex),
so imposing "−1.6 %" on the cortex measures about −0.9 %. The measured regional log changes are
linear in the imposed ones for small changes — ``measured = A · sources`` — and, because the flow
is integrated as a stationary velocity, stay close to linear in the interval.

:func:`mixing_matrix` measures ``A`` on a subject (one unit source per region, measured exactly as
predictions are measured) and :func:`fitted_sources` solves for the sources that give target
rates. The regions that *carry* the sources and the regions the change is *measured* on may
differ: the simulator uses the parcellation for both; the trainer's second stage uses the
network's own region probabilities as carriers (as the runtime does) and the real parcellation
for measurement, so the learned rates produce the observed change on real anatomy.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import SimpleITK as sitk

from medsynth.tasks.future_field import close_volume_budget, velocity_from_change, volume_ratio
from medsynth.tasks.future_regions import ACTIVE_REGIONS, COMPENSATING_REGION, region_index

#: Imposed change (%) of the unit sources: small enough to stay in the linear regime.
UNIT_SOURCE_PERCENT = 1.0

Spacing = tuple[float, float, float]


def spacing_zyx(grid: sitk.Image) -> Spacing:
    """Voxel spacing in array (z, y, x) order, mm."""
    return tuple(float(s) for s in reversed(grid.GetSpacing()))  # type: ignore[return-value]


def source_map(carriers: np.ndarray, sources: Mapping[str, float], years: float = 1.0) -> np.ndarray:
    """Imposed change map (%) over ``years``: each active region's source strength (%/yr) where
    that region is, the external CSF taking up the net change. ``carriers`` is (regions, z, y, x):
    one-hot labels or the network's probabilities."""
    change = np.zeros(carriers.shape[1:], dtype=np.float64)
    for name, value in sources.items():
        change += carriers[region_index(name)] * (float(value) * years)
    return close_volume_budget(change, carriers[region_index(COMPENSATING_REGION)])


def regional_log_changes(measure: np.ndarray, change: np.ndarray, spacing: Spacing) -> np.ndarray:
    """``100 ln(V_after / V_before)`` of each active region of ``measure`` (regions, z, y, x
    weights) under the imposed ``change`` map."""
    ratio = volume_ratio(velocity_from_change(change, spacing), spacing)
    return np.array([100.0 * np.log(float((measure[region_index(name)] * ratio).sum())
                                     / float(measure[region_index(name)].sum())) for name in ACTIVE_REGIONS])


def mixing_matrix(carriers: np.ndarray, spacing: Spacing, measure: np.ndarray | None = None) -> np.ndarray:
    """``A[k, j]``: measured log change (%) of active region k of ``measure`` (default: the
    carriers) per 1 % imposed on active region j of ``carriers``."""
    measure = carriers if measure is None else measure
    columns = [regional_log_changes(measure, source_map(carriers, {name: UNIT_SOURCE_PERCENT}), spacing)
               / UNIT_SOURCE_PERCENT for name in ACTIVE_REGIONS]
    return np.stack(columns, axis=1)


def source_strengths(matrix: np.ndarray, target_log_rates: Mapping[str, float]) -> dict[str, float]:
    """Sources (%/yr) whose measured annual log changes are ``target_log_rates`` (region → 100 ln(1+r)),
    to first order."""
    target = np.array([target_log_rates[name] for name in ACTIVE_REGIONS], dtype=np.float64)
    return dict(zip(ACTIVE_REGIONS, (float(v) for v in np.linalg.solve(matrix, target))))


def fitted_sources(carriers: np.ndarray, spacing: Spacing, matrix: np.ndarray, target_log_rates: Mapping[str, float],
                   years: float, refinements: int = 1, measure: np.ndarray | None = None) -> dict[str, float]:
    """Sources whose measured change over ``years`` is ``years × target_log_rates``.

    Starts from the first-order solution and corrects it ``refinements`` times with the change
    actually measured over the interval (Newton steps with ``matrix`` as the Jacobian): over several
    years the regions move with the flow and the change drifts from linear, most for the
    fast-expanding ventricles.
    """
    measure = carriers if measure is None else measure
    target = np.array([target_log_rates[name] for name in ACTIVE_REGIONS], dtype=np.float64)
    sources = np.linalg.solve(matrix, target)
    for _ in range(refinements if years > 0 else 0):
        change = source_map(carriers, dict(zip(ACTIVE_REGIONS, sources)), years)
        measured = regional_log_changes(measure, change, spacing) / years
        sources = sources + np.linalg.solve(matrix, target - measured)
    return dict(zip(ACTIVE_REGIONS, (float(v) for v in sources)))


def log_rate(percent_per_year: float) -> float:
    """Annual % change → annual log change, ``100 ln(1 + r/100)`` (the additive form the model uses)."""
    return 100.0 * float(np.log1p(percent_per_year / 100.0))

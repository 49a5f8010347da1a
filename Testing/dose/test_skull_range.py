"""A proton field through a skull: a skull density error in the sCT moves the range by its water-equivalent thickness.

Phantom: a water cylinder (radius 60 mm) inside a 10 mm bone shell (the skull) in air, 2 mm voxels; one
proton field (the fixed lateral plan) on a 12 mm sphere at the centre. The plan made on the CT (skull
1200 HU) is recomputed on sCTs whose skull is lighter (300 HU) or denser (2000 HU). Expected shift of
the distal R80 along the central ray: the difference in water-equivalent thickness of the skull wall
the central ray (:func:`medsynth.dose.evaluate.central_ray`) crosses before the target, Σ h·(RSP_CT - RSP_sCT) with the engine's own HU → stopping-power
table (:func:`medsynth.dose.engine.stopping_power_ratio`); a lighter skull lets the beam go deeper.
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

pytest.importorskip("pyRadPlan", reason="pyRadPlan is installed in the dose venv only (make dose-venv)")

from medsynth.dose.engine import stopping_power_ratio  # noqa: E402
from medsynth.dose.evaluate import central_ray, evaluate_doses  # noqa: E402

H = 2.0
SHAPE = (20, 80, 80)
CT_SKULL_HU = 1200.0
SCT_SKULL_HU = {"same": CT_SKULL_HU, "lighter": 300.0, "denser": 2000.0}


def _radius_mm() -> np.ndarray:
    _, y, x = np.indices(SHAPE)
    return np.hypot((y - 39.5) * H, (x - 39.5) * H)


def _image(array: np.ndarray) -> sitk.Image:
    image = sitk.GetImageFromArray(array.astype(np.float32))
    image.SetSpacing((H, H, H))
    return image


def _head(skull_hu: float) -> np.ndarray:
    r = _radius_mm()
    return np.where(r <= 60.0, 0.0, np.where(r <= 70.0, skull_hu, -1000.0))


@pytest.fixture(scope="module")
def shifts():
    z = np.indices(SHAPE)[0]
    target = _image(np.hypot(_radius_mm(), (z - 9.5) * H) <= 12.0)
    scts = {name: _image(_head(hu)) for name, hu in SCT_SKULL_HU.items()}
    results = evaluate_doses(_image(_head(CT_SKULL_HU)), scts, target=target, modality="proton")
    # the central ray, ordered along the beam by the engine's own beam direction (a wrong one fails below)
    skull = central_ray(_head(CT_SKULL_HU), sitk.GetArrayFromImage(target) > 0) > 500.0
    upstream = int(np.count_nonzero(skull[: SHAPE[2] // 2]))
    out = {}
    for name, result in results.items():
        wet_mm = H * upstream * float(stopping_power_ratio(CT_SKULL_HU) - stopping_power_ratio(SCT_SKULL_HU[name]))
        out[name] = (result.range_shift_mm, wet_mm, result.comparison)
    return out


def test_same_skull_keeps_the_range(shifts):
    measured, expected, comparison = shifts["same"]
    assert expected == 0.0
    assert abs(measured) < 0.05
    assert comparison.gamma_pass_rate_percent == 100.0


@pytest.mark.parametrize("name", ["lighter", "denser"])
def test_skull_density_error_moves_the_range_by_its_water_equivalent_thickness(shifts, name):
    measured, expected, _ = shifts[name]
    assert abs(expected) > 2.0  # the case is a real test: several mm of water-equivalent thickness
    assert np.sign(measured) == np.sign(expected)  # lighter skull -> deeper, denser -> shallower
    assert measured == pytest.approx(expected, abs=1.0)  # within half a dose voxel


def test_a_skull_error_fails_gamma_where_the_range_moved(shifts):
    assert shifts["lighter"][2].gamma_pass_rate_percent < 99.0
    assert shifts["denser"][2].gamma_pass_rate_percent < 99.0

"""A proton field through a skull: a skull density error in the sCT moves the range by its water-equivalent thickness.

Phantom: a water cylinder (radius 60 mm) inside a 10 mm bone shell (the skull) in air, 2 mm voxels; one
proton field (the fixed lateral plan) on a 12 mm sphere at the centre. The plan made on the CT (skull
1200 HU) is recomputed on sCTs whose skull is lighter (300 HU) or denser (2000 HU). Expected shift of
the distal R80 along the central ray: the difference in water-equivalent thickness of the skull wall
the ray crosses before the target, Σ h·(RSP_CT - RSP_sCT) with the engine's own HU → stopping-power
table (:func:`medsynth.dose.engine.stopping_power_ratio`); a lighter skull lets the beam go deeper.
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

pytest.importorskip("pyRadPlan", reason="pyRadPlan is installed in the dose venv only (make dose-venv)")

from medsynth.dose.engine import stopping_power_ratio  # noqa: E402
from medsynth.dose.evaluate import evaluate_doses  # noqa: E402
from medsynth.metrics.dose import range_shift_mm  # noqa: E402

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
    row = (SHAPE[0] // 2, SHAPE[1] // 2)  # the central ray along x, through the target's centre
    ct_line = sitk.GetArrayFromImage(results["same"].ct_dose)[row]
    centre = SHAPE[2] // 2
    # order the line along the beam: the field enters on the side carrying the entrance plateau
    forward = ct_line[:centre].sum() > ct_line[centre:].sum()
    order = slice(None) if forward else slice(None, None, -1)
    skull = _head(CT_SKULL_HU)[row][order] > 500.0
    upstream = skull & (np.arange(SHAPE[2]) < SHAPE[2] // 2)
    out = {}
    for name, result in results.items():
        sct_line = sitk.GetArrayFromImage(result.sct_dose)[row]
        wet_mm = H * float(np.sum(stopping_power_ratio(np.full(int(upstream.sum()), CT_SKULL_HU))
                                  - stopping_power_ratio(np.full(int(upstream.sum()), SCT_SKULL_HU[name]))))
        out[name] = (range_shift_mm(ct_line[order], sct_line[order], H), wet_mm, result.comparison)
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

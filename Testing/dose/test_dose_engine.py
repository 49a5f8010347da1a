"""The real pyRadPlan engine on a small water phantom: identity and soft-tissue sensitivity.

Runs where the optional extra ``dose`` is installed (``make dose-venv``; the Makefile runs this
directory with that venv's python). Coarse 5 mm grid so that it stays quick on 2 cores.
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

pytest.importorskip("pyRadPlan", reason="pyRadPlan is installed in the dose venv only (make dose-venv)")

from medsynth.dose.evaluate import evaluate_dose  # noqa: E402


def _phantom(extra_hu: float = 0.0) -> sitk.Image:
    """Water cylinder (radius 55 mm) in air, 5 mm voxels; ``extra_hu`` added to the water."""
    shape, h = (14, 26, 26), 5.0
    z, y, x = np.indices(shape)
    inside = ((y - 12.5) * h) ** 2 + ((x - 12.5) * h) ** 2 <= 55.0**2
    ct = np.where(inside, 0.0 + extra_hu, -1000.0).astype(np.float32)
    image = sitk.GetImageFromArray(ct)
    image.SetSpacing((h, h, h))
    return image


@pytest.fixture(scope="module")
def results():
    ct = _phantom()
    out = {}
    for modality in ("photon", "proton"):
        for extra in (0.0, 50.0, 100.0):
            out[modality, extra] = evaluate_dose(ct, _phantom(extra), modality=modality).comparison
    return out


@pytest.mark.parametrize("modality", ["photon", "proton"])
def test_identity_is_perfect(results, modality):
    r = results[modality, 0.0]
    assert r.gamma_pass_rate_percent == 100.0
    # The CT dose comes from the stored (float32, sparse) dose influence matrix, the sCT dose from a
    # forward calculation: identical physics, rounding apart (measured 5e-6 / 2e-5 % of Rx).
    assert r.dose_mae_percent < 1e-3


@pytest.mark.parametrize("modality", ["photon", "proton"])
def test_soft_tissue_error_is_monotonic(results, modality):
    mae = [results[modality, e].dose_mae_percent for e in (0.0, 50.0, 100.0)]
    gamma = [results[modality, e].gamma_pass_rate_percent for e in (0.0, 50.0, 100.0)]
    assert mae[0] < mae[1] < mae[2]
    assert gamma[0] >= gamma[1] >= gamma[2]


def test_protons_are_more_sensitive_than_photons(results):
    assert results["proton", 100.0].dose_mae_percent > results["photon", 100.0].dose_mae_percent

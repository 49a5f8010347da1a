"""Make ``Testing/data/dossier_cohort/scct_template/``: the BSD-2 CT template and a T1-like MR simulated from its own tissue priors.

    python Testing/data/make_scct_pair.py ../shared/data/templates Testing/data/dossier_cohort/scct_template

Inputs (all on one 2 mm MNI grid, BSD-2-Clause, GitHub ``neurolabusc/Clinical``; see ../shared/data/templates):
``scct_hu`` (the CT template in HU), ``scgrey``, ``scwhite``, ``sccsf`` (its grey/white/CSF priors).
The MR: white 0.85, grey 0.55, CSF 0.15 weighted by the priors, the rest of the head by the CT's HU
(soft tissue and fat 0.70 at -200…200 HU, bone 0.10 above 250 HU, air 0), Gaussian blur σ = 1 mm, Rician
noise of 1 % (seed 0), scaled to 0…250 and stored as int16. It is a phantom: a T1 that no scanner made,
paired voxel for voxel with the CT template, so that the dose dossier has an MR/CT pair that travels with
the repository. Labelled ``used-for-calibration``: the CT template chose the synthct-head recipe.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

WHITE, GREY, CSF, SOFT, BONE = 0.85, 0.55, 0.15, 0.70, 0.10


def simulated_t1(templates: Path) -> tuple[sitk.Image, sitk.Image]:
    """(MR, CT) on the template grid."""
    ct = sitk.ReadImage(str(templates / "scct_hu.nii.gz"))
    hu = sitk.GetArrayFromImage(ct).astype(np.float32)
    priors = [sitk.GetArrayFromImage(sitk.ReadImage(str(templates / f"sc{name}.nii.gz"), sitk.sitkFloat32))
              for name in ("white", "grey", "csf")]
    brain = np.clip(sum(priors), 0.0, 1.0)
    other = np.where(hu > 250.0, BONE, np.where(hu > -200.0, SOFT, 0.0))
    mr = WHITE * priors[0] + GREY * priors[1] + CSF * priors[2] + (1.0 - brain) * other
    image = sitk.GetImageFromArray(mr.astype(np.float32))
    image.CopyInformation(ct)
    smooth = sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(image, 1.0))
    rng = np.random.default_rng(0)
    noisy = np.hypot(smooth + 0.01 * rng.standard_normal(smooth.shape), 0.01 * rng.standard_normal(smooth.shape))
    out = sitk.GetImageFromArray(np.round(250.0 * noisy / noisy.max()).astype(np.int16))
    out.CopyInformation(ct)
    return out, ct


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    mr, ct = simulated_t1(source)
    sitk.WriteImage(mr, str(target / "mr.nii.gz"), True)
    sitk.WriteImage(ct, str(target / "ct.nii.gz"), True)

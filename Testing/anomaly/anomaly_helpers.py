"""Small helpers shared by the anomaly tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

MODEL_ID = "anomaly-brain-t1"


def brain_of(shared_data: Path, scan: Path) -> np.ndarray:
    """The subject's brain (DLMUSE labels > 0) as a boolean (z, y, x) array."""
    labels = shared_data / "subjects_t1" / "dlmuse" / scan.name.replace(".nii.gz", "_DLMUSE.nii.gz")
    return sitk.GetArrayFromImage(sitk.ReadImage(str(labels))) > 0

"""Fixtures for reading-session tests: small real/synthetic image folders and study files."""

from __future__ import annotations

from pathlib import Path

import pytest
import SimpleITK as sitk

from real_images import t1_cohort
from reading_helpers import tiny_study_dict, write_study

N_REAL_SUBJECTS = 4


@pytest.fixture(scope="session")
def t1_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(real_dir, synthetic_dir)``: real T1 volumes from four sources (shrunk 4x for speed, kept int16 so the
    pixel type differs from the synthetic ones) and "synthetic" versions made by Gaussian
    smoothing, saved as float32 with tell-tale file names and header text."""
    root = tmp_path_factory.mktemp("t1")
    real_dir, synth_dir = root / "real_scans", root / "synthetic_smoothgan"
    real_dir.mkdir()
    synth_dir.mkdir()
    sources = list(t1_cohort().items())[:N_REAL_SUBJECTS]
    assert len(sources) == N_REAL_SUBJECTS
    for stem, original in sources:
        image = sitk.Shrink(original, [4, 4, 4])
        sitk.WriteImage(sitk.Cast(image, sitk.sitkInt16), str(real_dir / f"{stem}.nii.gz"))
        synthetic = sitk.SmoothingRecursiveGaussian(sitk.Cast(image, sitk.sitkFloat32), 2.0)
        synthetic.SetMetaData("ITK_FileNotes", "synthetic smoothgan")
        sitk.WriteImage(synthetic, str(synth_dir / f"{stem}_synthetic.nii.gz"))
    return real_dir, synth_dir


@pytest.fixture
def tiny_session(tmp_path: Path):
    """A built session (2 readers, 3 real + 3 synthetic tiny cases, revisiting allowed)."""
    from medsynth.reading import build_session, load_study

    study = load_study(write_study(tmp_path, tiny_study_dict(tmp_path, allow_revisit=True)))
    return build_session(study, tmp_path / "session")

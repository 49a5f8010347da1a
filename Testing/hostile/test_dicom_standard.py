"""The exported sCT series of a RAS-stored volume: axial LPS orientation, valid for dciodvfy, same voxels and geometry."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from bad_inputs import ct_values
from medsynth.io.dicom_export import export_sct_dicom


def _ras_ct() -> sitk.Image:
    values = ct_values()
    values[5, 6, 7] = 1200.0  # one bright voxel, so a flip or a permutation would show
    image = sitk.GetImageFromArray(values)
    image.SetSpacing((0.9, 1.1, 2.0))
    image.SetOrigin((30.0, 40.0, -12.0))
    image.SetDirection((-1, 0, 0, 0, -1, 0, 0, 0, 1))  # RAS storage, as NIfTI writers often leave it
    return image


@pytest.fixture
def series(tmp_path: Path) -> tuple[sitk.Image, Path]:
    image = _ras_ct()
    export_sct_dicom(image, tmp_path / "dicom")
    return image, tmp_path / "dicom"


def test_axial_orientation(series: tuple[sitk.Image, Path]) -> None:
    for path in sorted(series[1].iterdir()):
        orientation = [float(v) for v in pydicom.dcmread(path).ImageOrientationPatient]
        assert np.allclose(orientation, [1, 0, 0, 0, 1, 0]), orientation


def test_round_trip_voxels_and_geometry(series: tuple[sitk.Image, Path]) -> None:
    image, folder = series
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    back = reader.Execute()
    assert np.allclose(back.GetDirection(), np.eye(3).ravel()) and np.allclose(back.GetSpacing(), image.GetSpacing())
    resampled = sitk.Resample(back, image, sitk.Transform(), sitk.sitkNearestNeighbor, -2000)
    assert np.array_equal(sitk.GetArrayFromImage(resampled), np.rint(sitk.GetArrayFromImage(image)))
    for index in [(0, 0, 0), (15, 15, 15), (7, 6, 5)]:
        point = image.TransformIndexToPhysicalPoint(index)
        assert back[back.TransformPhysicalPointToIndex(point)] == image[index]


def test_dciodvfy_passes(series: tuple[sitk.Image, Path]) -> None:
    tool = shutil.which("dciodvfy")
    if tool is None:
        pytest.skip("dciodvfy not installed (apt-get install -y dicom3tools)")
    for path in sorted(series[1].iterdir()):
        report = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
        errors = [line for line in (report.stdout + report.stderr).splitlines()
                  if line.startswith("Error") and "0x0008,0x001c" not in line.lower()]
        assert not errors, f"{path.name}: {errors}"

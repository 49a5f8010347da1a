"""Image I/O on real files: every supported format, DICOM series, atomic writes, clear errors."""

import os

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.io import read_image, write_image, write_text_atomic


def test_reads_nifti_nrrd_and_dicom_series(test_data):
    nifti = read_image(test_data / "scct_hu.nii.gz")
    nrrd = read_image(next((test_data / "head_mr_skull").glob("*.nrrd")))
    dicom = read_image(test_data / "dicom_mr_series_small")
    assert nifti.GetDimension() == nrrd.GetDimension() == dicom.GetDimension() == 3
    assert dicom.GetSize() == (128, 128, 30)
    assert dicom.GetSpacing()[2] == pytest.approx(6.0, abs=1e-3)


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".nrrd", ".mha"])
def test_write_then_read_is_identical(tmp_path, test_data, suffix):
    image = read_image(test_data / "stroke_2mm" / "T1.nii.gz")  # oblique: the direction must survive
    path = write_image(image, tmp_path / f"copy{suffix}")
    back = read_image(path)
    assert np.array_equal(sitk.GetArrayViewFromImage(back), sitk.GetArrayViewFromImage(image))
    assert np.allclose(back.GetOrigin(), image.GetOrigin(), atol=1e-4)
    assert np.allclose(back.GetDirection(), image.GetDirection(), atol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == [f"copy{suffix}"]  # no temporary file left behind


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_image(tmp_path / "absent.nii.gz")


def test_non_image_file_is_a_clear_error(tmp_path):
    bogus = tmp_path / "notes.nii.gz"
    bogus.write_text("this is not an image")
    with pytest.raises(InputError, match="Cannot read .*notes.nii.gz"):
        read_image(bogus)


def test_folder_without_dicom_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="No DICOM series"):
        read_image(tmp_path)


def test_failed_write_leaves_no_file(tmp_path):
    image = sitk.Image(4, 4, 4, sitk.sitkFloat32)
    with pytest.raises(InputError, match="use one of"):
        write_image(image, tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_old_content_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "report.txt"
    write_text_atomic(target, "first")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_text_atomic(target, "second")
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
def test_truncated_nifti_is_refused_not_read_as_zeros(tmp_path, test_data, suffix):
    """ITK fills the missing part of a cut-short NIfTI with zeros; MedSynth refuses the file."""
    whole = write_image(read_image(test_data / "head_mr_skull_2mm.nii.gz"), tmp_path / f"whole{suffix}")
    data = whole.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError, match="truncated|damaged"):
        read_image(cut)
    read_image(whole)  # the complete file still reads

"""DICOM export of synthetic CTs: geometry and HU round trips, synthetic marking, reference series,
atomic folders, refusals. Read back with two independent readers (SimpleITK/GDCM and pydicom)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

import medsynth
from medsynth.errors import InputError
from medsynth.io import dicom_export, read_image
from medsynth.io.dicom_export import export_sct_dicom


# ---------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture(scope="module")
def head_ct(test_data) -> sitk.Image:
    """A crop of the real head CT template (LAS voxel order, so left-handed), int16 HU."""
    image = sitk.ReadImage(str(test_data / "scct_hu.nii.gz"))
    return image[4:87, 4:105, 30:54]


def _read_with_simpleitk(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def _read_with_pydicom(folder: Path) -> list[pydicom.Dataset]:
    datasets = [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]
    return sorted(datasets, key=lambda ds: int(ds.InstanceNumber))


def _assert_same_geometry(a: sitk.Image, b: sitk.Image) -> None:
    assert a.GetSize() == b.GetSize()
    np.testing.assert_allclose(a.GetSpacing(), b.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(a.GetOrigin(), b.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(a.GetDirection(), b.GetDirection(), atol=1e-4)


def _rotation(ax: float, ay: float, az: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _small_image(values: np.ndarray | None = None, pixel=np.int16) -> sitk.Image:
    if values is None:
        values = np.random.default_rng(0).integers(-1024, 3000, size=(5, 6, 7)).astype(pixel)
    image = sitk.GetImageFromArray(values)
    image.SetSpacing((0.8, 0.9, 2.5))
    image.SetOrigin((10.0, -20.0, 30.0))
    return image


# ---------------------------------------------------------------------------------------------
# Round trips


def test_round_trip_right_handed_real_ct_identical_geometry_and_hu(head_ct, tmp_path):
    image = sitk.DICOMOrient(head_ct, "LPS")  # right-handed: written slice for slice
    result = export_sct_dicom(image, tmp_path / "series")
    assert not result.slice_order_reversed
    assert len(result.files) == image.GetSize()[2]

    back = _read_with_simpleitk(tmp_path / "series")
    _assert_same_geometry(back, image)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(image))

    datasets = _read_with_pydicom(tmp_path / "series")
    hu = np.stack([ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for ds in datasets])
    np.testing.assert_array_equal(hu, sitk.GetArrayFromImage(image))
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    for k, ds in enumerate(datasets):
        np.testing.assert_allclose(ds.ImagePositionPatient, image.TransformIndexToPhysicalPoint((0, 0, k)), atol=1e-4)
        np.testing.assert_allclose(ds.ImageOrientationPatient, [*direction[:, 0], *direction[:, 1]], atol=1e-6)
        np.testing.assert_allclose(
            [float(v) for v in ds.PixelSpacing], [image.GetSpacing()[1], image.GetSpacing()[0]], atol=1e-6
        )
        assert float(ds.SliceThickness) == pytest.approx(image.GetSpacing()[2])
        assert float(ds.SpacingBetweenSlices) == pytest.approx(image.GetSpacing()[2])
        assert ds.pixel_array.dtype == np.int16 and ds.PixelRepresentation == 1
        assert (ds.Rows, ds.Columns) == (image.GetSize()[1], image.GetSize()[0])


def test_left_handed_input_keeps_every_voxel_at_its_physical_place(head_ct, tmp_path):
    direction = np.asarray(head_ct.GetDirection()).reshape(3, 3)
    assert np.linalg.det(direction) < 0  # the sample CT is LAS: the case this test is about
    result = export_sct_dicom(head_ct, tmp_path / "series")
    assert not result.slice_order_reversed  # re-oriented exactly to LPS, so no reversed stacking is needed
    back = _read_with_simpleitk(tmp_path / "series")
    np.testing.assert_allclose(back.GetDirection(), np.eye(3).ravel(), atol=1e-6)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(sitk.DICOMOrient(head_ct, "LPS")))
    # Every voxel: same value at the same physical point.
    nx, ny, nz = head_ct.GetSize()
    for index in [(0, 0, 0), (nx - 1, 0, 3), (10, ny - 1, nz - 1), (nx // 2, ny // 2 + 10, nz // 2)]:
        point = head_ct.TransformIndexToPhysicalPoint(index)
        assert back[back.TransformPhysicalPointToIndex(point)] == head_ct[index]
    # Instance numbers follow the direction readers stack in (row x column), as for a scanner series.
    datasets = _read_with_pydicom(tmp_path / "series")
    iop = np.asarray(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    steps = np.diff([np.dot(np.asarray(ds.ImagePositionPatient, dtype=float), normal) for ds in datasets])
    np.testing.assert_allclose(steps, head_ct.GetSpacing()[2], atol=1e-4)
    # Resampling the read-back series onto the input grid reproduces the input exactly.
    resampled = sitk.Resample(back, head_ct, sitk.Transform(), sitk.sitkNearestNeighbor, -2000)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(resampled), sitk.GetArrayFromImage(head_ct))


def test_oblique_image_gets_the_right_orientation(tmp_path):
    rotation = _rotation(0.3, -0.2, 0.5)
    assert np.linalg.det(rotation) > 0
    image = _small_image()
    image.SetDirection(rotation.ravel().tolist())
    export_sct_dicom(image, tmp_path / "series")
    back = _read_with_simpleitk(tmp_path / "series")
    _assert_same_geometry(back, image)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(image))
    first = _read_with_pydicom(tmp_path / "series")[0]
    np.testing.assert_allclose(first.ImageOrientationPatient, [*rotation[:, 0], *rotation[:, 1]], atol=1e-9)


def test_float_hu_are_rounded_to_whole_hu(tmp_path):
    values = np.zeros((5, 6, 7), dtype=np.float32)
    values[0, 0, :4] = [10.4, -0.6, 2999.5, -1023.2]
    export_sct_dicom(_small_image(values), tmp_path / "series")
    hu = sitk.GetArrayFromImage(_read_with_simpleitk(tmp_path / "series"))
    np.testing.assert_array_equal(hu[0, 0, :4], [10, -1, 3000, -1023])  # 2999.5 -> 3000 (round half to even)


def test_the_input_file_is_not_changed(head_ct, tmp_path):
    source = tmp_path / "sct.nii.gz"
    sitk.WriteImage(head_ct, str(source))
    before = hashlib.sha256(source.read_bytes()).hexdigest(), source.stat().st_mtime_ns
    result = export_sct_dicom(source, tmp_path / "series")
    assert len(result.files) == head_ct.GetSize()[2]
    assert (hashlib.sha256(source.read_bytes()).hexdigest(), source.stat().st_mtime_ns) == before


# ---------------------------------------------------------------------------------------------
# Marking and identity


def test_every_file_is_marked_synthetic(tmp_path):
    extras = {"MedSynth.ModelId": "synthct-brain", "MedSynth.ModelVersion": "1.2.0", "MedSynth.ModelSHA256": "ab12"}
    result = export_sct_dicom(_small_image(), tmp_path / "series", series_description="brain sCT",
                              extra_attributes=extras)
    datasets = _read_with_pydicom(tmp_path / "series")
    assert len(datasets) == 5
    for ds in datasets:
        assert ds[0x0008, 0x001C].value == "YES"
        assert ds.SyntheticData == "YES"
        assert list(ds.ImageType)[:2] == ["DERIVED", "SECONDARY"]
        assert "SYNTHETIC" in ds.SeriesDescription.upper() and "brain sCT" in ds.SeriesDescription
        assert ds.Modality == "CT"
        assert ds.SOPClassUID == pydicom.uid.CTImageStorage
        assert ds.file_meta.MediaStorageSOPClassUID == pydicom.uid.CTImageStorage
        assert ds.SeriesInstanceUID == result.series_instance_uid
        equipment = ds.ContributingEquipmentSequence[0]
        assert equipment.Manufacturer == "MedSynth"
        assert any(medsynth.__version__ in v for v in equipment.SoftwareVersions)
        assert "1.2.0" in equipment.SoftwareVersions
        assert equipment.ManufacturerModelName == "synthct-brain"
        purpose = equipment.PurposeOfReferenceCodeSequence[0]
        assert (purpose.CodeValue, purpose.CodingSchemeDesignator) == ("109100", "DCM")
        assert "ab12" in equipment.ContributionDescription and "ab12" in ds.DerivationDescription
        assert float(ds.RescaleSlope) == 1.0 and float(ds.RescaleIntercept) == 0.0
    assert len({ds.SOPInstanceUID for ds in datasets}) == len(datasets)
    assert [int(ds.InstanceNumber) for ds in datasets] == [1, 2, 3, 4, 5]


def _sct_on_grid_of(mr: sitk.Image) -> sitk.Image:
    """A CT-like volume (air, a 40 HU block) on the grid of ``mr``, as synth-ct computes it."""
    values = np.full(sitk.GetArrayViewFromImage(mr).shape, -1000, np.int16)
    values[:, 4:-4, 4:-4] = 40
    sct = sitk.GetImageFromArray(values)
    sct.CopyInformation(mr)
    return sct


def test_reference_series_supplies_patient_study_and_frame_of_reference(test_data, tmp_path):
    reference_dir = test_data / "dicom_mr_series_small"
    mr = pydicom.dcmread(sorted(reference_dir.glob("*.dcm"))[0], stop_before_pixels=True)
    sct = _sct_on_grid_of(read_image(reference_dir))
    result = export_sct_dicom(sct, tmp_path / "series", reference_series=reference_dir)
    assert result.patient_id == mr.PatientID
    for ds in _read_with_pydicom(tmp_path / "series"):
        assert ds.PatientID == mr.PatientID
        assert ds.PatientName == mr.PatientName
        assert ds.StudyInstanceUID == mr.StudyInstanceUID
        assert ds.FrameOfReferenceUID == mr.FrameOfReferenceUID
        assert ds.SeriesInstanceUID != mr.SeriesInstanceUID
        assert mr.SeriesInstanceUID in ds.DerivationDescription


def test_without_reference_a_new_anonymous_patient_and_study(tmp_path):
    first = export_sct_dicom(_small_image(), tmp_path / "a")
    second = export_sct_dicom(_small_image(), tmp_path / "b")
    ds = _read_with_pydicom(tmp_path / "a")[0]
    assert str(ds.PatientName) == "SYNTHETIC^ANONYMOUS"
    assert ds.PatientID.startswith("MEDSYNTH-ANON-")
    assert first.study_instance_uid != second.study_instance_uid
    assert first.frame_of_reference_uid != second.frame_of_reference_uid
    assert ds.FrameOfReferenceUID == first.frame_of_reference_uid


def test_an_sct_outside_the_reference_coordinates_is_refused(test_data, tmp_path):
    far_away = _small_image()
    far_away.SetOrigin((5000.0, 5000.0, 5000.0))
    with pytest.raises(InputError, match="does not overlap"):
        export_sct_dicom(far_away, tmp_path / "series", reference_series=test_data / "dicom_mr_series_small")
    assert not (tmp_path / "series").exists()


def test_another_scans_sct_that_merely_overlaps_the_reference_is_refused(test_data, head_ct, tmp_path):
    with pytest.raises(InputError, match="covers another region than the reference series"):
        export_sct_dicom(head_ct, tmp_path / "series", reference_series=test_data / "dicom_mr_series_small")
    assert not (tmp_path / "series").exists()


def test_reference_folder_with_two_series_is_refused(test_data, tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for path in sorted((test_data / "dicom_mr_series_small").glob("*.dcm"))[:2]:
        shutil.copy(path, mixed / path.name)
    other = pydicom.dcmread(mixed / "002.dcm")
    other.SeriesInstanceUID = pydicom.uid.generate_uid()
    other.save_as(mixed / "002.dcm")
    with pytest.raises(InputError, match="2 DICOM series"):
        export_sct_dicom(_small_image(), tmp_path / "series", reference_series=mixed)


# ---------------------------------------------------------------------------------------------
# Refusals and atomic folders


def test_bad_images_are_refused_with_clear_errors(tmp_path):
    flat = sitk.GetImageFromArray(np.zeros((6, 7), dtype=np.int16))
    with pytest.raises(InputError, match="3-D"):
        export_sct_dicom(flat, tmp_path / "a")
    too_bright = np.zeros((5, 6, 7), dtype=np.float32)
    too_bright[2, 2, 2] = 40000.0
    with pytest.raises(InputError, match="int16"):
        export_sct_dicom(_small_image(too_bright), tmp_path / "b")
    broken = np.zeros((5, 6, 7), dtype=np.float32)
    broken[0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        export_sct_dicom(_small_image(broken), tmp_path / "c")
    vector = sitk.GetImageFromArray(np.zeros((5, 6, 7, 3), dtype=np.float32), isVector=True)
    with pytest.raises(InputError, match="components"):
        export_sct_dicom(vector, tmp_path / "d")
    assert not any(tmp_path.iterdir())  # nothing written, no staging folder left


def test_non_empty_folder_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "series"
    out.mkdir()
    (out / "old.txt").write_text("previous export")
    with pytest.raises(InputError, match="not empty"):
        export_sct_dicom(_small_image(), out)
    with pytest.raises(InputError, match="only a folder of DICOM files"):
        export_sct_dicom(_small_image(), out, overwrite=True)
    assert (out / "old.txt").read_text() == "previous export"
    (out / "old.txt").unlink()
    export_sct_dicom(_small_image(), out)
    result = export_sct_dicom(_small_image(), out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in result.files)
    assert [p.name for p in tmp_path.iterdir()] == ["series"]  # no staging or retired folder left


def test_an_empty_existing_folder_is_used(tmp_path):
    (tmp_path / "series").mkdir()
    result = export_sct_dicom(_small_image(), tmp_path / "series")
    assert len(list((tmp_path / "series").iterdir())) == len(result.files) == 5


def test_a_failure_while_writing_leaves_no_folder(tmp_path, monkeypatch):
    real_write = pydicom.dcmwrite
    written = []

    def failing_write(path, ds, **kwargs):
        if len(written) == 2:
            raise OSError("disk full")
        written.append(path)
        real_write(path, ds, **kwargs)

    monkeypatch.setattr(dicom_export.pydicom, "dcmwrite", failing_write)
    with pytest.raises(OSError, match="disk full"):
        export_sct_dicom(_small_image(), tmp_path / "series")
    assert len(written) == 2
    assert not any(tmp_path.iterdir())


def test_overwrite_never_deletes_the_reference_series(test_data, tmp_path):
    reference = tmp_path / "mr"
    reference.mkdir()
    for path in sorted((test_data / "dicom_mr_series_small").glob("*.dcm"))[:2]:
        shutil.copy(path, reference / path.name)
    with pytest.raises(InputError, match="holds an input"):
        export_sct_dicom(_small_image(), reference, reference_series=reference, overwrite=True)
    assert len(list(reference.glob("*.dcm"))) == 2


# ---------------------------------------------------------------------------------------------
# Command line


def _cli(argv: list[str]) -> int:
    from medsynth.cli import main

    return main(argv)


def test_cli_exports_and_refuses_to_overwrite(tmp_path, capsys):
    source = tmp_path / "sct.nii.gz"
    sitk.WriteImage(_small_image(), str(source))
    out = tmp_path / "series"
    assert _cli(["export-dicom", str(source), str(out), "--series-description", "test sCT",
                 "--attribute", "ModelId=demo", "--attribute", "ModelVersion=0.9"]) == 0
    assert "Wrote 5 synthetic CT slices" in capsys.readouterr().out
    ds = _read_with_pydicom(out)[0]
    assert ds.SyntheticData == "YES" and ds.SeriesDescription == "SYNTHETIC test sCT"
    assert ds.ContributingEquipmentSequence[0].ManufacturerModelName == "demo"
    assert _cli(["export-dicom", str(source), str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert _cli(["export-dicom", str(source), str(out), "--overwrite", "--attribute", "novalue"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err

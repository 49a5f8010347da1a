"""Finding cases (files, DICOM folders, nested, excluded output folder) and reading the parameters CSV."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.batch import discover_cases, read_case_table
from medsynth.errors import InputError


def _volume(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(sitk.GetImageFromArray(np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)), str(path))


def test_cases_are_files_and_dicom_folders_with_ids_from_their_names(test_data, tmp_path):
    root = tmp_path / "in"
    for name in ("a.nii.gz", "b.nrrd", "site2/c.mha", ".hidden.nii.gz", "out/old_result.nii.gz"):
        _volume(root / name)
    series = root / "patient7" / "MR_T1"
    series.mkdir(parents=True)
    for index, path in enumerate(sorted((test_data / "dicom_mr_series_small").glob("*.dcm"))[:3]):
        shutil.copy(path, series / f"IM{index:04d}")  # no ending: recognised by the DICM magic
    (root / "patient7" / "report.txt").write_text("x" * 200)
    cases = discover_cases(root, exclude=[root / "out"])
    assert [(c.case_id, c.path.relative_to(root).as_posix()) for c in cases] == [
        ("a", "a.nii.gz"), ("b", "b.nrrd"), ("patient7_MR_T1", "patient7/MR_T1"), ("site2_c", "site2/c.mha")]
    assert [c.is_dicom_folder for c in cases] == [False, False, True, False]


def test_two_inputs_with_one_case_id_are_refused(tmp_path):
    _volume(tmp_path / "a.nii.gz")
    _volume(tmp_path / "a.nrrd")
    with pytest.raises(InputError, match="would both be case 'a'"):
        discover_cases(tmp_path)


def test_parameters_csv_columns_are_case_insensitive_and_empty_cells_absent(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("\ufeffSubject,Age,Diagnosis\nsub-01, 71 ,AD\nsub-02,,CN\n\n")
    table = read_case_table(path, id_column="subject")
    assert table.row("sub-01") == {"age": "71", "diagnosis": "AD"}
    assert table.row("sub-02") == {"diagnosis": "CN"}
    assert table.row("sub-03") is None and table.folder == tmp_path


@pytest.mark.parametrize("text, message", [
    ("id,age\nsub-01,70\n", "has no 'case_id' column"),
    ("case_id,age\nsub-01,70\nsub-01,71\n", "line 3: case 'sub-01' appears twice"),
    ("case_id,age\n,70\n", "line 2: the 'case_id' cell is empty"),
    ("case_id,age\nsub-01,70,extra\n", "line 2 has 3 cells"),
])
def test_malformed_parameters_csv_is_refused_with_the_line(tmp_path, text, message):
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_case_table(path)

"""Per-case parameters (CSV rows, batch-wide values, defaults) reach the model; bad ones fail their case only."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.batch import DONE, FAILED, run_batch
from medsynth.errors import InputError
from real_images import coarse_muse_labels


def _case_ids(folder: Path) -> list[str]:
    return sorted(p.name[: -len(".nii.gz")] for p in folder.glob("*.nii.gz"))


def _shift(age: float) -> float:
    """What 'cond-test' adds to every voxel: encoded age + the one-hot diagnosis."""
    return (age - 40) * 0.1 + 1.0


def test_csv_rows_and_batch_wide_values_reach_the_model(small_cohort, test_registry, tmp_path):
    first, second, third = _case_ids(small_cohort)
    table = tmp_path / "subjects.csv"
    table.write_text(f"Case_ID,Age,Diagnosis,notes\n{first},70,AD,older\n{second},,cn,age from --param\n")
    out = tmp_path / "out"
    summary = run_batch("run-model", small_cohort, out, model="cond-test", params={"age": "50"}, params_csv=table,
                        registry=test_registry, id_column="case_id")
    results = {r.case_id: r for r in summary.results}
    assert results[first].status == DONE and results[second].status == DONE
    assert '"diagnosis": "AD"' in results[first].parameters and '"age": 70.0' in results[first].parameters
    assert '"diagnosis": "CN"' in results[second].parameters and '"age": 50.0' in results[second].parameters
    for case_id, age in ((first, 70.0), (second, 50.0)):
        source = sitk.GetArrayFromImage(sitk.ReadImage(str(small_cohort / f"{case_id}.nii.gz")))
        output = sitk.GetArrayFromImage(sitk.ReadImage(str(out / f"{case_id}_out.nii.gz")))
        np.testing.assert_allclose(output, source + _shift(age), rtol=1e-5, atol=1e-4)
    assert results[third].status == FAILED and results[third].outputs == ()
    assert "has no row in" in results[third].error and "diagnosis" in results[third].error
    assert not list(out.glob(f"{third}_*"))


def test_invalid_or_missing_parameters_fail_their_case_with_a_clear_message(small_cohort, test_registry, tmp_path):
    first, second, third = _case_ids(small_cohort)
    table = tmp_path / "bad.csv"
    table.write_text(f"case_id,age,diagnosis\n{first},120,AD\n{second},60,XX\n{third},,MCI\n")
    summary = run_batch("run-model", small_cohort, tmp_path / "out", model="cond-test", params_csv=table,
                        registry=test_registry)
    errors = {r.case_id: r.error for r in summary.results if r.status == FAILED}
    assert set(errors) == {first, second, third}
    assert "age = 120 is outside 40–90" in errors[first]
    assert "'XX' is not a valid diagnosis" in errors[second] and "CN" in errors[second]
    assert "Missing required parameter 'age'" in errors[third] and "--param age=" in errors[third]


def test_batch_wide_mistakes_stop_before_any_case_runs(small_cohort, test_registry, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"does not take the parameter\(s\) \['agee'\]"):
        run_batch("run-model", small_cohort, out, model="cond-test", params={"agee": 70, "diagnosis": "AD"},
                  registry=test_registry)
    with pytest.raises(InputError, match="name one with --model"):
        run_batch("run-model", small_cohort, out, registry=test_registry)
    with pytest.raises(InputError, match="Unknown batch task 'synth-mri'"):
        run_batch("synth-mri", small_cohort, out)
    with pytest.raises(InputError, match="Input folder not found"):
        run_batch("run-model", tmp_path / "missing", out, model="demo-edges")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="No images found"):
        run_batch("run-model", tmp_path / "empty", out, model="demo-edges")
    assert not (out / "results.csv").exists()


def test_synth_ct_adapter_writes_sct_and_per_case_uncertainty(small_cohort, test_registry, tmp_path):
    first, second, _third = _case_ids(small_cohort)
    table = tmp_path / "sct.csv"
    table.write_text(f"case_id,uncertainty\n{first},yes\n")
    out = tmp_path / "out"
    summary = run_batch("synth-ct", small_cohort, out, params_csv=table, params={"tta": "2"}, registry=test_registry)
    results = {r.case_id: r for r in summary.results}
    assert {r.status for r in summary.results} == {DONE}
    assert results[first].outputs == (f"{first}_sct.nii.gz", f"{first}_uncertainty.nii.gz")
    assert results[second].outputs == (f"{second}_sct.nii.gz",)
    assert results[first].model_id == "sct-test"
    sct = sitk.GetArrayFromImage(sitk.ReadImage(str(out / f"{second}_sct.nii.gz")))
    assert sct.min() >= -1024 and sct.max() <= 3071
    assert (sct > -1024).all()  # a crop from inside the head: no voxel of it is outside the MR's outline (no air)


def test_predict_future_adapter_with_per_case_conditions_and_parcellation(real_t1s, test_registry, tmp_path):
    with_labels, without_labels = "sub02-head_mr_skull", "sub03-stroke"
    (tmp_path / "t1").mkdir()
    for name in (with_labels, without_labels):
        sitk.WriteImage(real_t1s[name], str(tmp_path / "t1" / f"{name}.nii.gz"))
    (tmp_path / "labels").mkdir()
    sitk.WriteImage(coarse_muse_labels(real_t1s[with_labels]), str(tmp_path / "labels" / "a.nii.gz"))
    table = tmp_path / "subjects.csv"
    table.write_text(f"case_id,age,sex,diagnosis,years,labels\n{with_labels},62,M,MCI,4,labels/a.nii.gz\n"
                     f"{without_labels},47,F,CN,,\n")
    out = tmp_path / "out"
    summary = run_batch("predict-future", tmp_path / "t1", out, params_csv=table, params={"years": "2"},
                        model="future-test", registry=test_registry)
    done, failed = summary.results
    assert done.status == DONE and done.model_id == "future-test", done.error
    assert done.outputs == (f"{with_labels}_future.nii.gz", f"{with_labels}_change_map.nii.gz",
                            f"{with_labels}_volumes.csv")
    volumes = list(csv.DictReader(open(out / f"{with_labels}_volumes.csv", newline="")))
    assert {row["years"] for row in volumes} == {"4.0"} and {row["measured_on"] for row in volumes} == {"labels"}
    assert float(next(r for r in volumes if r["region"] == "hippocampus")["change_ml"]) < 0  # bright tissue shrinks
    future = sitk.GetArrayFromImage(sitk.ReadImage(str(out / done.outputs[0])))
    baseline = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "t1" / f"{with_labels}.nii.gz")))
    assert future.shape == baseline.shape and np.abs(future - baseline).max() > 0
    assert '"years": 2.0' in failed.parameters and '"sex": "F"' in failed.parameters
    # without a parcellation the (constant) model regions are used, and the T1 check refuses them
    assert failed.status == FAILED and "No white matter was found" in failed.error


@pytest.mark.parametrize("kind, raw, expected", [
    ("flag", "Yes", True), ("flag", "off", False), ("flag", True, True),
    ("integer", "3", 3), ("number", " 2.5 ", 2.5), ("category", "mci", "MCI"),
])
def test_parameter_values_are_parsed_by_kind(kind, raw, expected):
    from medsynth.batch import TaskParameter

    parameter = TaskParameter("p", kind, "test", choices=("CN", "MCI", "AD") if kind == "category" else ())
    assert parameter.parse(raw) == expected and type(parameter.parse(raw)) is type(expected)


@pytest.mark.parametrize("kind, raw, message", [
    ("flag", "", "must be yes or no"), ("flag", "maybe", "must be yes or no"),
    ("integer", "2.5", "must be a whole number"), ("number", "nan", "finite"), ("number", "old", "must be a number"),
])
def test_unusable_parameter_values_are_refused(kind, raw, message):
    from medsynth.batch import TaskParameter

    with pytest.raises(InputError, match=message):
        TaskParameter("p", kind, "test").parse(raw)


def test_path_parameters_are_relative_to_the_csv_folder_and_must_exist(tmp_path):
    from medsynth.batch import TaskParameter

    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "m.nii.gz").write_bytes(b"x")
    mask = TaskParameter("mask", "path", "test")
    assert mask.parse("masks/m.nii.gz", tmp_path) == (tmp_path / "masks" / "m.nii.gz").resolve()
    with pytest.raises(InputError, match="does not exist"):
        mask.parse("masks/other.nii.gz", tmp_path)

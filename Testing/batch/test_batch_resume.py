"""Crash safety: the results CSV is rewritten after every case; a cancelled batch resumes where it stopped."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from medsynth.batch import DONE, PENDING, SKIPPED, run_batch
from medsynth.errors import Cancelled, InputError


def _statuses(path: Path) -> dict[str, str]:
    with open(path, newline="") as handle:
        return {row["case_id"]: row["status"] for row in csv.DictReader(handle)}


def test_results_csv_is_current_after_every_case_and_a_cancelled_batch_resumes(small_cohort, tmp_path):
    out = tmp_path / "out"
    seen: list[dict[str, str]] = []

    def on_result(result):
        seen.append(_statuses(out / "results.csv"))
        assert seen[-1][result.case_id] == result.status == DONE  # on disk before anyone is told

    with pytest.raises(Cancelled):
        run_batch("run-model", small_cohort, out, model="demo-edges", on_result=on_result,
                  cancelled=lambda: len(seen) >= 2)
    statuses = _statuses(out / "results.csv")
    assert sorted(statuses.values()) == [DONE, DONE, PENDING]
    assert len(list(out.glob("*_edges.nii.gz"))) == 2 and not list(out.glob(".*"))  # no temporary files left

    resumed = run_batch("run-model", small_cohort, out, model="demo-edges")
    assert sorted(r.status for r in resumed.results) == [DONE, SKIPPED, SKIPPED]
    pending = next(case for case, status in statuses.items() if status == PENDING)
    assert next(r for r in resumed.results if r.status == DONE).case_id == pending
    assert set(_statuses(out / "results.csv").values()) == {DONE, SKIPPED}


def test_overwrite_runs_finished_cases_again(small_cohort, tmp_path):
    out = tmp_path / "out"
    run_batch("run-model", small_cohort, out, model="demo-edges")
    again = run_batch("run-model", small_cohort, out, model="demo-edges", overwrite=True)
    assert [r.status for r in again.results] == [DONE] * 3


def test_a_foreign_results_file_is_not_overwritten(small_cohort, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("subject,score\nA,1\n")
    with pytest.raises(InputError, match="not a MedSynth batch results file"):
        run_batch("run-model", small_cohort, out, model="demo-edges")
    assert (out / "results.csv").read_text() == "subject,score\nA,1\n"


def test_dask_without_distributed_says_what_to_install(small_cohort, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    with pytest.raises(InputError, match=r"needs the 'distributed' package: pip install \"dask\[distributed\]\""):
        run_batch("run-model", small_cohort, tmp_path / "out", model="demo-edges", workers=2)
    assert not (tmp_path / "out").exists()  # refused before planning: no results file full of 'pending'
    with pytest.raises(InputError, match="not both"):
        run_batch("run-model", small_cohort, tmp_path / "out", model="demo-edges", workers=2, scheduler="tcp://x:1")


def test_a_custom_task_runs_with_single_threaded_itk_and_the_setting_is_restored(small_cohort, tmp_path):
    """Multi-threaded ITK reductions (registration metrics) are not reproducible, so every case
    runs with one SimpleITK thread; the caller's setting comes back afterwards."""
    import SimpleITK as sitk

    from medsynth.batch import BatchTask, TaskOutput
    from medsynth.batch.tasks import load_generator

    def run(image, params, model, progress, cancelled):
        marker = sitk.Image(image.GetSize(), sitk.sitkUInt8) + sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
        marker.CopyInformation(image)
        return TaskOutput({"itk_threads": marker}, {"model.txt": model.card.id.encode()})

    task = BatchTask("itk-probe", "test task", None, lambda card: (), run, load_generator)
    before = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(2)
    try:
        summary = run_batch(task, small_cohort, tmp_path, model="demo-edges")
        assert sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() == 2
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(before)
    first = summary.results[0]
    assert first.status == DONE
    assert first.outputs == (f"{first.case_id}_itk_threads.nii.gz", f"{first.case_id}_model.txt")
    marker = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / first.outputs[0])))
    assert set(marker.ravel().tolist()) == {1}
    assert (tmp_path / first.outputs[1]).read_text() == "demo-edges"


def test_nrrd_outputs_carry_provenance_without_a_timestamp_and_repeat_byte_for_byte(small_cohort, tmp_path):
    import SimpleITK as sitk

    first = run_batch("run-model", small_cohort, tmp_path, model="demo-edges", output_format="nrrd")
    name = first.results[0].outputs[0]
    assert name.endswith("_edges.nrrd")
    written = (tmp_path / name).read_bytes()
    header = sitk.ReadImage(str(tmp_path / name))
    assert header.GetMetaData("MedSynth.Synthetic") == "YES" and header.GetMetaData("MedSynth.ModelId") == "demo-edges"
    assert not header.HasMetaDataKey("MedSynth.Created")
    run_batch("run-model", small_cohort, tmp_path, model="demo-edges", output_format="nrrd", overwrite=True)
    assert (tmp_path / name).read_bytes() == written


def test_a_tampered_model_stops_the_batch_before_any_case(small_cohort, tmp_path):
    import shutil

    from medsynth.errors import ModelError
    from medsynth.models import ModelRegistry

    source = ModelRegistry.default().find("demo-edges").folder
    shutil.copytree(source, tmp_path / "models" / "demo-edges")
    with open(tmp_path / "models" / "demo-edges" / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="sha256"):
        run_batch("run-model", small_cohort, tmp_path / "out", model="demo-edges",
                  registry=ModelRegistry([("test", tmp_path / "models")]))
    assert not (tmp_path / "out").exists()

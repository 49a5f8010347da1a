"""Serial and Dask batches on real volumes: identical files, failures isolated, resume by fingerprint."""

from __future__ import annotations

import collections
import csv
import json
import os
import shutil
from pathlib import Path

import pytest
import SimpleITK as sitk

from batch_helpers import CORRUPT_NAME, DICOM_CASE, N_DICOM_SLICES, N_SUBJECTS
from medsynth.batch import DONE, FAILED, SKIPPED, run_batch
from medsynth.runtime import default_thread_count

MODEL = "demo-edges"


@pytest.fixture(scope="module")
def serial_run(cohort: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("serial")
    return out, run_batch("run-model", cohort, out, model=MODEL)


@pytest.fixture(scope="module")
def dask_run(cohort: Path, dask_scheduler: str, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("dask")
    return out, run_batch("run-model", cohort, out, model=MODEL, scheduler=dask_scheduler)


def _csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {row["case_id"]: row for row in csv.DictReader(handle)}


def test_serial_batch_records_every_case_and_isolates_the_corrupt_one(serial_run):
    out, summary = serial_run
    statuses = {result.case_id: result.status for result in summary.results}
    corrupt = CORRUPT_NAME[: -len(".nii.gz")]
    assert list(statuses) == sorted(statuses) and list(statuses).index(corrupt) == 2  # in the middle
    assert statuses.pop(corrupt) == FAILED
    assert len(statuses) == N_SUBJECTS + 1 and set(statuses.values()) == {DONE}
    assert DICOM_CASE in statuses
    rows = _csv_rows(out / "results.csv")
    assert rows[corrupt]["status"] == FAILED
    assert "Cannot read" in rows[corrupt]["error"] and CORRUPT_NAME in rows[corrupt]["error"]
    for case_id in statuses:
        assert rows[case_id]["status"] == DONE and rows[case_id]["error"] == ""
        output = out / rows[case_id]["outputs"]
        assert output.name == f"{case_id}_edges.nii.gz" and output.is_file()
    dicom_out = sitk.ReadImage(str(out / f"{DICOM_CASE}_edges.nii.gz"))
    assert dicom_out.GetSize()[2] == N_DICOM_SLICES and sitk.GetArrayViewFromImage(dicom_out).max() > 0


def test_dask_outputs_are_byte_identical_to_serial(serial_run, dask_run):
    (serial_out, serial), (dask_out, on_dask) = serial_run, dask_run
    assert [(r.case_id, r.status, r.outputs, r.fingerprint) for r in serial.results] == \
           [(r.case_id, r.status, r.outputs, r.fingerprint) for r in on_dask.results]
    written = sorted(p.name for p in serial_out.iterdir() if p.name != "results.csv")
    assert written == sorted(p.name for p in dask_out.iterdir() if p.name != "results.csv")
    assert len(written) == N_SUBJECTS + 1
    for name in written:
        assert (serial_out / name).read_bytes() == (dask_out / name).read_bytes(), name
    failed = next(r for r in on_dask.results if r.status == FAILED)
    assert "Cannot read" in failed.error
    serial_threads = {r.threads for r in serial.results if r.status == DONE}
    dask_threads = {r.threads for r in on_dask.results if r.status == DONE}
    assert serial_threads == {default_thread_count()} and dask_threads == {max(default_thread_count() // 2, 1)}


def test_dask_cases_run_in_worker_processes_each_loading_the_model_once(dask_run):
    _out, summary = dask_run
    ran = [r for r in summary.results if r.status == DONE]
    workers = {r.worker for r in ran}
    assert workers and all(not w.endswith(f":{os.getpid()}") for w in workers)
    loads = collections.Counter(r.worker for r in ran if r.model_loaded)
    assert len(ran) > 2 and all(count == 1 for count in loads.values()) and set(loads) <= workers
    assert sum(loads.values()) <= 2  # two workers: at most two loads for five cases


def test_rerun_skips_finished_cases_and_retries_failed_ones(serial_run, cohort, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial_run[0], out)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*_edges.nii.gz")}
    summary = run_batch("run-model", cohort, out, model=MODEL)
    statuses = collections.Counter(r.status for r in summary.results)
    assert statuses == {SKIPPED: N_SUBJECTS + 1, FAILED: 1}
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*_edges.nii.gz")} == before
    assert collections.Counter(row["status"] for row in _csv_rows(out / "results.csv").values()) == statuses


def test_a_case_whose_output_was_deleted_runs_again(serial_run, cohort, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(serial_run[0], out)
    subjects = [r for r in serial_run[1].results if r.status == DONE and r.case_id != DICOM_CASE]
    (out / subjects[0].outputs[0]).unlink()
    summary = run_batch("run-model", cohort, out, model=MODEL)
    assert {r.case_id for r in summary.results if r.status == DONE} == {subjects[0].case_id}
    assert (out / subjects[0].outputs[0]).read_bytes() == (serial_run[0] / subjects[0].outputs[0]).read_bytes()


def test_changed_parameters_run_every_case_again(small_cohort, tmp_path):
    first = {r.case_id: r for r in run_batch("run-model", small_cohort, tmp_path, model=MODEL).results}
    changed = run_batch("run-model", small_cohort, tmp_path, model=MODEL, params={"overlap": "0.5"})
    assert [r.status for r in changed.results] == [DONE] * len(first)
    assert all(r.fingerprint != first[r.case_id].fingerprint and '"overlap": 0.5' in r.parameters
               for r in changed.results)
    again = run_batch("run-model", small_cohort, tmp_path, model=MODEL, params={"overlap": 0.5})
    assert [r.status for r in again.results] == [SKIPPED] * len(first)  # "0.5" and 0.5 are the same value


def test_each_worker_gets_its_share_of_the_cores(dask_run, dask_scheduler):
    import distributed

    from medsynth.batch.worker import process_threads

    with distributed.Client(dask_scheduler) as client:
        shares = client.run(process_threads)
    assert list(shares.values()) == [max(default_thread_count() // 2, 1)] * 2


def test_anomaly_maps_with_registration_are_identical_serially_and_on_dask(cohort, dask_scheduler, anomaly_registry,
                                                                          tmp_path):
    """The anomaly chain registers every scan (ITK mutual information), whose result depends on
    ITK's threads: this is where serial/Dask identity would break (it does with 2 ITK threads)."""
    subject = cohort / "sub02-head_mr_skull.nii.gz"  # one person's whole head, as the anomaly model expects
    case_id = subject.name[: -len(".nii.gz")]
    (tmp_path / "in").mkdir()
    shutil.copy2(subject, tmp_path / "in" / subject.name)
    params = {"threshold": "1.5", "reconstruction": "yes"}
    runs = {mode: run_batch("anomaly-map", tmp_path / "in", tmp_path / mode, params=params, registry=anomaly_registry,
                            **options)
            for mode, options in (("serial", {}), ("dask", {"scheduler": dask_scheduler}))}
    for summary in runs.values():
        assert [r.status for r in summary.results] == [DONE], summary.results
    outputs = runs["serial"].results[0].outputs
    assert outputs == (f"{case_id}_heatmap.nii.gz", f"{case_id}_reconstruction.nii.gz", f"{case_id}_findings.json")
    for name in outputs:
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name
    findings = json.loads((tmp_path / "serial" / f"{case_id}_findings.json").read_text())
    assert findings["method"] == "model" and findings["threshold"] == 1.5 and isinstance(findings["findings"], list)

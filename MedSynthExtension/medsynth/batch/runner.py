"""``run_batch``: map a batch task over every case of an input folder, serially or on Dask.

Plan (in the calling process): find the cases, resolve each one's parameters (its CSV row, then
the batch-wide values, then defaults), fingerprint it, and reuse the result of any case finished
before with the same fingerprint. Run the rest one after another here, or on a Dask cluster.
Record every case in the results CSV as soon as it finishes. The same code runs each case in both
modes (:func:`medsynth.batch.worker.process_case`), so serial and Dask runs write the same files.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from medsynth.batch.cases import Case, CaseTable, discover_cases, read_case_table
from medsynth.batch.manifest import (DONE, FAILED, PENDING, RESULTS_FILE_NAME, SKIPPED, CaseResult, ResultsTable,
                                     as_skipped, fingerprint, parameters_json)
from medsynth.batch.spec import (BatchTask, CancelCheck, ProgressCallback, TaskParameter, check_parameter_names,
                                 resolve_parameters)
from medsynth.batch.tasks import get_task
from medsynth.batch.worker import CaseJob, process_case
from medsynth.errors import Cancelled, InputError, MedSynthError
from medsynth.io.guard import check_output_folder
from medsynth.models.registry import ModelEntry, ModelRegistry

#: Image formats batch outputs can be written in.
OUTPUT_FORMATS = ("nii.gz", "nrrd", "mha")


@dataclass
class BatchSummary:
    """The outcome of a batch: every case's result (in case order), where the CSV is, how long it took."""

    results: list[CaseResult]
    results_csv: Path
    seconds: float

    def count(self, status: str) -> int:
        return sum(result.status == status for result in self.results)

    @property
    def failed(self) -> list[CaseResult]:
        return [result for result in self.results if result.status == FAILED]

    @property
    def cases_per_minute(self) -> float:
        """Cases actually run (done or failed, not skipped) per minute of wall time."""
        ran = self.count(DONE) + self.count(FAILED)
        return 60.0 * ran / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        return (f"{self.count(DONE)} done, {self.count(SKIPPED)} skipped, {self.count(FAILED)} failed "
                f"in {self.seconds:.1f} s; results: {self.results_csv}")


@dataclass
class BatchPlan:
    """What a run will do before it does anything: every case's planned row (pending, failed for
    unusable parameters, or skipped), the jobs left to run, and the results table they go to."""

    cases: list[Case]
    rows: dict[str, CaseResult]
    jobs: list[CaseJob]
    results: ResultsTable

    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows.values())


def plan_batch(task: str | BatchTask, input_dir: str | os.PathLike, output_dir: str | os.PathLike, *,
               model: str | None = None, params: Mapping[str, Any] | None = None,
               params_csv: str | os.PathLike | None = None, id_column: str = "case_id", threads: int | None = None,
               overwrite: bool = False, output_format: str = "nii.gz",
               registry: ModelRegistry | None = None) -> BatchPlan:
    """Find the cases, resolve their parameters and decide which to skip; writes nothing.

    Raises :class:`InputError` / :class:`ModelError` for mistakes that concern the whole batch
    (unknown task, model or parameter name, no cases, unreadable CSV); a problem of one case
    becomes that case's failed row. Arguments as for :func:`run_batch`.
    """
    task = get_task(task) if isinstance(task, str) else task
    if output_format not in OUTPUT_FORMATS:
        raise InputError(f"Output format must be one of {', '.join(OUTPUT_FORMATS)}, got '{output_format}'.")
    entry = _find_model(task, model, registry or ModelRegistry.default())
    entry.verify()  # a tampered model fails the batch once, not every case
    parameters = task.parameters(entry.card)
    common = dict(params or {})
    check_parameter_names(parameters, common, task.name)
    output_dir = Path(output_dir).resolve()
    check_output_folder(output_dir, input_dir)
    cases = discover_cases(input_dir, exclude=[output_dir])
    if not cases:
        raise InputError(f"No images found in {input_dir}: it needs NIfTI (.nii, .nii.gz), NRRD, MHA files "
                         "or folders of DICOM files.")
    table = read_case_table(params_csv, id_column) if params_csv else None
    results = ResultsTable(output_dir / RESULTS_FILE_NAME)
    planned = [_plan(case, task, entry, parameters, common, table, results, output_dir, output_format, threads,
                     overwrite) for case in cases]
    return BatchPlan(cases, {row.case_id: row for row, _job in planned},
                     [job for _row, job in planned if job is not None], results)


def run_batch(task: str | BatchTask, input_dir: str | os.PathLike, output_dir: str | os.PathLike, *,
              model: str | None = None, params: Mapping[str, Any] | None = None,
              params_csv: str | os.PathLike | None = None, id_column: str = "case_id",
              workers: int | None = None, scheduler: str | None = None, threads: int | None = None,
              overwrite: bool = False, output_format: str = "nii.gz",
              progress: ProgressCallback | None = None, on_result: Callable[[CaseResult], None] | None = None,
              cancelled: CancelCheck | None = None, registry: ModelRegistry | None = None) -> BatchSummary:
    """Run ``task`` (a name from :data:`medsynth.batch.tasks.BATCH_TASKS`) on every case in ``input_dir``.

    Outputs go to ``output_dir/<case>_<output>.<output_format>``; the results CSV to
    ``output_dir/results.csv``. ``params`` apply to every case; a ``params_csv`` row (keyed by
    ``id_column``) overrides them per case. Serial in this process unless ``workers`` (a local
    Dask cluster of that many processes) or ``scheduler`` (an existing cluster's address) is
    given. ``threads``: onnxruntime threads per case (default: all cores serially, each worker's
    share on Dask). Cases finished before with the same fingerprint are skipped unless
    ``overwrite``. A failing case is recorded and the others go on; :class:`Cancelled` (from
    ``cancelled()``) stops the batch with finished cases recorded. ``on_result`` is called with
    each case's row once it is in the results CSV.
    """
    started = time.perf_counter()
    if workers and scheduler:
        raise InputError("Give either workers (a local Dask cluster) or a scheduler address (an existing cluster), "
                         "not both.")
    if workers or scheduler:
        from medsynth.batch.dask_run import import_distributed

        import_distributed()  # fail before planning when Dask is asked for but not installed
    plan = plan_batch(task, input_dir, output_dir, model=model, params=params, params_csv=params_csv,
                      id_column=id_column, threads=threads, overwrite=overwrite, output_format=output_format,
                      registry=registry)
    finished = {case_id: row for case_id, row in plan.rows.items() if row.status != PENDING}
    plan.results.record(plan.rows.values())
    for row in finished.values():
        if on_result is not None:
            on_result(row)

    def record(result: CaseResult) -> None:
        finished[result.case_id] = result
        plan.results.record([result])
        if on_result is not None:
            on_result(result)

    report = progress or (lambda fraction: None)
    report(0.0 if plan.jobs else 1.0)
    if plan.jobs and (workers or scheduler):
        from medsynth.batch.dask_run import run_on_dask

        run_on_dask(plan.jobs, record, report, cancelled, workers, scheduler)
    else:
        _run_serially(plan.jobs, record, report, cancelled)
    ordered = [finished[case.case_id] for case in plan.cases]
    return BatchSummary(ordered, plan.results.path, time.perf_counter() - started)


def _find_model(task: BatchTask, model: str | None, registry: ModelRegistry) -> ModelEntry:
    if task.model_task is None and model is None:
        raise InputError(f"Task {task.name} runs any installed model: name one with --model "
                         "(see 'medsynth models list').")
    return registry.find(model, task=task.model_task)


def _plan(case: Case, task: BatchTask, entry: ModelEntry, parameters: tuple[TaskParameter, ...],
          common: Mapping[str, Any], table: CaseTable | None, results: ResultsTable, output_dir: Path,
          output_format: str, threads: int | None, overwrite: bool) -> tuple[CaseResult, CaseJob | None]:
    """The case's results row and its job; no job when it is skipped or its parameters are unusable."""
    card = entry.card
    row = CaseResult(case.case_id, PENDING, str(case.path), "", card.id, card.version, card.weights_sha256)
    try:
        values = _case_parameters(case, parameters, common, table)
        case_fingerprint = fingerprint(task.name, entry, values, case.path, output_format)
    except MedSynthError as exc:
        return dataclasses.replace(row, status=FAILED, error=str(exc)), None
    row = dataclasses.replace(row, fingerprint=case_fingerprint, parameters=parameters_json(values))
    previous = None if overwrite else results.reusable(case.case_id, case_fingerprint, output_dir)
    if previous is not None:
        return as_skipped(previous), None
    return row, CaseJob(case, task, entry, values, output_dir, output_format, row, threads)


def _case_parameters(case: Case, parameters: tuple[TaskParameter, ...], common: Mapping[str, Any],
                     table: CaseTable | None) -> dict[str, Any]:
    """Typed parameters of one case; a clear error when a required one is missing or invalid."""
    row = table.row(case.case_id) if table is not None else None
    if table is not None and row is None:
        missing = [p.name for p in parameters if p.required and p.name not in common]
        if missing:
            raise InputError(f"Case {case.case_id} has no row in {table.source} (column '{table.id_column}' must "
                             f"hold the case id, the file name without its ending) and needs {missing}.")
    return resolve_parameters(parameters, row, common, table.folder if table is not None else None)


def _run_serially(jobs: list[CaseJob], record: Callable[[CaseResult], None], progress: ProgressCallback,
                  cancelled: CancelCheck | None) -> None:
    for index, job in enumerate(jobs):
        if cancelled is not None and cancelled():
            raise Cancelled("The batch was cancelled; finished cases are in the results file.")

        def case_progress(fraction: float, index: int = index) -> None:
            progress((index + fraction) / len(jobs))

        record(process_case(job, case_progress, cancelled))
        progress((index + 1) / len(jobs))

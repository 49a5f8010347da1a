"""Cohort processing: one task over every case of a folder, resumable, serially or on Dask.

    from medsynth.batch import run_batch
    summary = run_batch("synth-ct", "mr/", "sct/", params={"uncertainty": True}, workers=4)
    print(summary.describe())

Modules: :mod:`~medsynth.batch.cases` (finding cases, per-case CSV), :mod:`~medsynth.batch.spec`
and :mod:`~medsynth.batch.tasks` (what a batch task is; the adapters), :mod:`~medsynth.batch.manifest`
(results CSV, fingerprints, resume), :mod:`~medsynth.batch.worker` (one case, per-process model
cache), :mod:`~medsynth.batch.runner` (planning, serial run) and :mod:`~medsynth.batch.dask_run`
(Dask; imported only when asked for).
"""

from medsynth.batch.cases import Case, discover_cases, read_case_table
from medsynth.batch.manifest import DONE, FAILED, PENDING, RESULTS_FILE_NAME, SKIPPED, CaseResult
from medsynth.batch.runner import OUTPUT_FORMATS, BatchPlan, BatchSummary, plan_batch, run_batch
from medsynth.batch.spec import BatchTask, TaskOutput, TaskParameter
from medsynth.batch.tasks import BATCH_TASKS, get_task

__all__ = [
    "BATCH_TASKS",
    "DONE",
    "FAILED",
    "OUTPUT_FORMATS",
    "PENDING",
    "RESULTS_FILE_NAME",
    "SKIPPED",
    "BatchPlan",
    "BatchSummary",
    "BatchTask",
    "Case",
    "CaseResult",
    "TaskOutput",
    "TaskParameter",
    "discover_cases",
    "get_task",
    "plan_batch",
    "read_case_table",
    "run_batch",
]

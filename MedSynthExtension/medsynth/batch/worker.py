"""One case, start to finish, in whatever process runs it (the caller's, or a Dask worker).

:func:`process_case` reads the input, gets the model from this process's cache (so a worker
loads each model once, however many cases it runs), runs the task, writes the outputs
atomically and returns the case's :class:`~medsynth.batch.manifest.CaseResult`. An error of one
case becomes a ``failed`` result with its message; only cancellation propagates.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as _dt
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import SimpleITK as sitk

from medsynth.batch.cases import Case
from medsynth.batch.manifest import DONE, FAILED, CaseResult
from medsynth.batch.spec import BatchTask, CancelCheck, ProgressCallback, TaskOutput
from medsynth.errors import Cancelled, MedSynthError
from medsynth.io import read_image, write_bytes_atomic, write_image
from medsynth.io.images import file_note
from medsynth.itk_threads import itk_threads
from medsynth.models.registry import ModelEntry
from medsynth.provenance import ATTRIBUTE_PREFIX, Provenance
from medsynth.runtime.onnx_model import default_thread_count

#: Models kept loaded per process (a batch uses one; a console session may alternate between two).
MODEL_CACHE_SIZE = 2
#: SimpleITK threads while a case runs, in every mode. ITK's multi-threaded reductions (e.g. the
#: Mattes mutual information of a registration) sum in an order that depends on the threads, so
#: with more than one thread the same case gives slightly different results from run to run
#: (measured here: different final metrics at 2 threads, identical at 1). One thread makes every
#: case reproducible and serial and Dask runs identical; the parallelism is across cases.
ITK_THREADS_PER_CASE = 1
#: Provenance attributes that change from run to run; left out of written images so that the
#: same case gives the same bytes (the time is in the results CSV).
_VOLATILE_ATTRIBUTES = (ATTRIBUTE_PREFIX + "Created",)


@dataclass(frozen=True)
class CaseJob:
    """Everything a process needs to run one case; picklable, so it can travel to a Dask worker.

    ``threads`` is onnxruntime's intra-op thread count; None: this process's share of its cores
    (see :func:`set_process_threads`). ``planned`` is the case's row with its fingerprint.
    """

    case: Case
    task: BatchTask
    entry: ModelEntry
    parameters: Mapping[str, Any]
    output_dir: Path
    output_format: str
    planned: CaseResult
    threads: int | None = None


def process_case(job: CaseJob, progress: ProgressCallback | None = None,
                 cancelled: CancelCheck | None = None) -> CaseResult:
    """Run one case (see module docstring); raises only :class:`Cancelled`."""
    started = time.perf_counter()
    loaded = False
    threads = job.threads or process_threads()
    try:
        model, loaded = _cached_model(job.task, job.entry, threads)
        with itk_threads(ITK_THREADS_PER_CASE):
            image = read_image(job.case.path)
            output = job.task.run(image, job.parameters, model, progress, cancelled)
            written = _write_outputs(job, output)
    except Cancelled:
        raise
    except MedSynthError as exc:
        return _finish(job, started, loaded, threads, status=FAILED, error=str(exc))
    except Exception as exc:  # one broken case must not stop the cohort; record what went wrong
        return _finish(job, started, loaded, threads, status=FAILED, error=f"{type(exc).__name__}: {exc}")
    return _finish(job, started, loaded, threads, status=DONE, outputs=written)


def _finish(job: CaseJob, started: float, loaded: bool, threads: int, **changes: Any) -> CaseResult:
    return dataclasses.replace(
        job.planned, seconds=time.perf_counter() - started, worker=worker_label(), threads=threads, model_loaded=loaded,
        finished_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), **changes)


def output_name(case_id: str, suffix: str, output_format: str | None = None) -> str:
    """``<case>_<suffix>.<format>`` for images, ``<case>_<suffix>`` for side files (suffix has its ending)."""
    return f"{case_id}_{suffix}" + (f".{output_format}" if output_format else "")


def _write_outputs(job: CaseJob, output: TaskOutput) -> tuple[str, ...]:
    if not output.images:
        raise MedSynthError(f"Task {job.task.name} produced no output for case {job.case.case_id}.")
    names = []
    attributes = _provenance_attributes(job, output.outside_domain)
    for suffix, image in output.images.items():
        _stamp(image, attributes)
        name = output_name(job.case.case_id, suffix, job.output_format)
        write_image(image, job.output_dir / name)
        names.append(name)
    for suffix, data in output.side_files.items():
        name = output_name(job.case.case_id, suffix)
        write_bytes_atomic(job.output_dir / name, data)
        names.append(name)
    return tuple(names)


def _provenance_attributes(job: CaseJob, outside_domain: str | None = None) -> dict[str, str]:
    """``MedSynth.*`` attributes (NRRD/MHA headers keep them) without the creation time, which
    would make identical results differ byte for byte (the time is in the results CSV), and the
    short file note NIfTI keeps in its ``descrip`` field (synthetic; outside the domain when so)."""
    card = job.entry.card
    provenance = Provenance(model_id=card.id, model_version=card.version, model_sha256=card.weights_sha256,
                            task=card.task, parameters={"batch_task": job.task.name, **job.parameters},
                            input_description=str(job.case.path), outside_domain=outside_domain)
    attributes = provenance.as_attributes()
    for key in _VOLATILE_ATTRIBUTES:
        attributes.pop(key)
    return {**attributes, "ITK_FileNotes": file_note(provenance)}


def _stamp(image: sitk.Image, attributes: Mapping[str, str]) -> None:
    for key in image.GetMetaDataKeys():
        if key.startswith(ATTRIBUTE_PREFIX) or key == "ITK_FileNotes":
            image.EraseMetaData(key)
    for key, value in attributes.items():
        image.SetMetaData(key, value)


# --- per-process state: thread share and model cache ------------------------------------------

_lock = threading.Lock()
_models: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
_process_threads: int | None = None


def set_process_threads(threads: int) -> None:
    """This process's share of its machine's cores for onnxruntime (set on each Dask worker by
    the runner, so workers sharing a machine do not oversubscribe it)."""
    global _process_threads
    _process_threads = max(int(threads), 1)


def process_threads() -> int:
    """Intra-op threads for a case run in this process: its configured share, else all its cores."""
    return _process_threads or default_thread_count()


def worker_label() -> str:
    """``host:pid`` of this process, written to the results CSV (which worker ran the case)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _cached_model(task: BatchTask, entry: ModelEntry, threads: int) -> tuple[Any, bool]:
    """The task's model handle for ``entry``, loaded at most once per process; (handle, loaded now)."""
    key = (task.name, str(entry.weights_path), entry.card.weights_sha256, threads)
    with _lock:
        if key in _models:
            _models.move_to_end(key)
            return _models[key], False
        handle = task.load(entry, threads)
        _models[key] = handle
        while len(_models) > MODEL_CACHE_SIZE:
            _models.popitem(last=False)
        return handle, True

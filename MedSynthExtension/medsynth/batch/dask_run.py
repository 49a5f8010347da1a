"""Running a batch's cases on Dask: a local cluster by default, any cluster by its scheduler address.

Only imported when a Dask run is asked for (``dask[distributed]`` is an optional extra). Each
case is one Dask task calling :func:`medsynth.batch.worker.process_case`; a worker keeps the
model it loaded for its next cases. Every worker gets an equal share of its machine's cores for
onnxruntime (cores ÷ worker threads on that machine), so workers sharing a machine do not fight
over it; SimpleITK runs single-threaded in every mode (see
:data:`~medsynth.batch.worker.ITK_THREADS_PER_CASE`). Input and output folders must be visible to
every worker under the same paths (a shared or network file system on a real cluster), and so
must the model folder.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import socket
import uuid
from typing import Any, Callable, Iterator, Sequence

from medsynth.batch.manifest import FAILED, CaseResult
from medsynth.batch.worker import CaseJob, process_case, set_process_threads
from medsynth.errors import Cancelled, InputError
from medsynth.runtime.onnx_model import default_thread_count

#: Seconds to wait for an existing scheduler before giving up with a clear message.
CONNECT_TIMEOUT_S = 30


def import_distributed() -> Any:
    """The ``distributed`` package, or an :class:`InputError` saying how to get it."""
    try:
        import distributed
    except ImportError:
        raise InputError("Running on Dask needs the 'distributed' package: pip install \"dask[distributed]\" "
                         "(or medsynth[scale]). Without --workers/--scheduler the cases run one after another "
                         "in this process.") from None
    return distributed


@contextlib.contextmanager
def dask_client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a new local cluster of ``workers``
    single-threaded worker processes (closed again on exit)."""
    distributed = import_distributed()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"Cannot reach the Dask scheduler at {scheduler} ({exc}). Check the address "
                             "(e.g. tcp://host:8786) and that the scheduler is running.") from None
        with client:
            yield client
        return
    if not workers or workers < 1:
        raise InputError(f"A local Dask cluster needs at least 1 worker, got {workers}.")
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
        yield client


def run_on_dask(jobs: Sequence[CaseJob], record: Callable[[CaseResult], None], progress: Callable[[float], None],
                cancelled: Callable[[], bool] | None, workers: int | None, scheduler: str | None) -> None:
    """Run ``jobs`` on Dask, calling ``record`` with each case's result as soon as it finishes."""
    distributed = import_distributed()
    with dask_client(workers, scheduler) as client:
        client.run(_apply_thread_share, _thread_shares(client))
        futures = {client.submit(process_case, job, key=f"medsynth-{job.case.case_id}-{uuid.uuid4().hex[:8]}",
                                 pure=False): job for job in jobs}
        try:
            for count, future in enumerate(distributed.as_completed(futures), start=1):
                record(_result_of(future, futures[future]))
                progress(count / len(futures))
                if cancelled is not None and cancelled():
                    raise Cancelled("The batch was cancelled; finished cases are in the results file.")
        except BaseException:
            client.cancel(list(futures))
            raise


def _result_of(future: Any, job: CaseJob) -> CaseResult:
    """The case's result; a worker that died or raised becomes a failed case, not a failed batch."""
    try:
        return future.result()
    except Exception as exc:
        return dataclasses.replace(job.planned, status=FAILED,
                                   error=f"The Dask worker running this case failed: {type(exc).__name__}: {exc}")


def _machine_of_worker(dask_worker: Any = None) -> tuple[str, int, int]:
    """(host name, usable cores, worker threads) of the worker process this runs in."""
    return socket.gethostname(), default_thread_count(), int(dask_worker.state.nthreads)


def _thread_shares(client: Any) -> dict[str, int]:
    """Worker address → cores ÷ (worker threads on its machine), at least 1."""
    machines = client.run(_machine_of_worker)
    threads_per_host: collections.Counter[str] = collections.Counter()
    for host, _cores, nthreads in machines.values():
        threads_per_host[host] += nthreads
    return {address: max(cores // threads_per_host[host], 1) for address, (host, cores, _n) in machines.items()}


def _apply_thread_share(shares: dict[str, int], dask_worker: Any = None) -> None:
    set_process_threads(shares.get(dask_worker.address, 1))

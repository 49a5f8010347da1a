"""Benchmark: cases per minute of one batch, serial vs a local Dask cluster, in one run.

The same cohort (real IXI T1 heads, 2 mm, from the shared corpus; repeated under new names when
more cases are asked for than exist) goes through ``run_batch`` twice with the same model:

1. serially in this process (onnxruntime uses all cores for each case);
2. on a local Dask cluster of ``--workers`` single-threaded worker processes (each worker's
   onnxruntime gets cores ÷ workers threads and loads the model once).

Reported: wall seconds, cases/minute and the ratio, with the cluster's start-up time shown apart
(it is paid once per batch, not per case), and a check that both runs wrote identical files.
The machine's load average is printed too: on a shared machine the ratio moves with it.

    python Testing/benchmarks/bench_batch.py [--cases 10] [--workers 2] [--model demo-edges]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path


def make_cohort(folder: Path, cases: int) -> None:
    """``cases`` real T1 files in ``folder`` (symbolic links; IXI subjects reused under new names)."""
    from medsynth.sample_data import shared_data_dir

    data = shared_data_dir()
    if data is None:
        raise SystemExit("The shared real-image corpus is needed: set MEDSYNTH_SHARED_DATA or place shared/data "
                         "beside the checkout.")
    sources = sorted((data / "subjects_t1").glob("IXI*-T1_ds.nii.gz"))
    for index in range(cases):
        source = sources[index % len(sources)]
        (folder / f"case{index:03d}_{source.name}").symlink_to(source)


def identical_outputs(first: Path, second: Path) -> bool:
    names = sorted(p.name for p in first.iterdir() if p.name != "results.csv")
    return names == sorted(p.name for p in second.iterdir() if p.name != "results.csv") and all(
        (first / name).read_bytes() == (second / name).read_bytes() for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", default="demo-edges")
    args = parser.parse_args()

    import distributed

    from medsynth.batch import DONE, run_batch
    from medsynth.runtime import default_thread_count

    root = Path(tempfile.mkdtemp(prefix="medsynth-bench-batch-"))
    try:
        (root / "in").mkdir()
        make_cohort(root / "in", args.cases)
        print(f"{args.cases} cases (IXI T1, 2 mm), model {args.model}, {default_thread_count()} cores, "
              f"load average before: {os.getloadavg()[0]:.1f}")
        serial = run_batch("run-model", root / "in", root / "serial", model=args.model)
        assert serial.count(DONE) == args.cases, serial.describe()
        started = time.perf_counter()
        with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
            startup = time.perf_counter() - started
            on_dask = run_batch("run-model", root / "in", root / "dask", model=args.model,
                                scheduler=cluster.scheduler_address)
        assert on_dask.count(DONE) == args.cases, on_dask.describe()
        with_startup = args.cases * 60.0 / (on_dask.seconds + startup)
        print(f"{'run':<28}{'seconds':>9}{'cases/min':>11}")
        print(f"{'serial (1 process)':<28}{serial.seconds:>9.1f}{serial.cases_per_minute:>11.1f}")
        print(f"{f'Dask, {args.workers} workers':<28}{on_dask.seconds:>9.1f}{on_dask.cases_per_minute:>11.1f}")
        print(f"{'  incl. cluster start-up':<28}{on_dask.seconds + startup:>9.1f}{with_startup:>11.1f}")
        print(f"ratio Dask/serial: {on_dask.cases_per_minute / serial.cases_per_minute:.2f}x "
              f"({with_startup / serial.cases_per_minute:.2f}x including {startup:.1f} s start-up); "
              f"outputs identical: {identical_outputs(root / 'serial', root / 'dask')}; "
              f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

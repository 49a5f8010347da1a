"""``medsynth batch TASK INPUT_DIR OUTPUT_DIR``: one task over a whole cohort, resumable, on Dask if asked."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from medsynth.batch.manifest import FAILED, RESULTS_FILE_NAME, SKIPPED, CaseResult
from medsynth.batch.runner import OUTPUT_FORMATS, plan_batch, run_batch
from medsynth.batch.tasks import BATCH_TASKS
from medsynth.cli.progress import progress_bar
from medsynth.errors import InputError
from medsynth.io.guard import declare

#: Failed cases listed on the terminal (all of them are in the results CSV).
SHOWN_FAILURES = 10

_DESCRIPTION = f"""\
Run TASK on every case in INPUT_DIR: each NIfTI (.nii, .nii.gz), NRRD or MHA file, and each
folder holding one DICOM series, is a case (case id = file or folder name without its ending).
Outputs go to OUTPUT_DIR/<case>_<output>.<format>; OUTPUT_DIR/{RESULTS_FILE_NAME} gets one row per
case (status done / skipped / failed / pending, outputs, error, model, parameters, fingerprint),
rewritten after every case.

Re-running the same command skips every case already done with the same model (id, version,
sha256), parameters and input files whose outputs still exist; --overwrite runs them all again.
A failing case is recorded with its error and the others go on; the exit status is then 1.

Per-case parameters come from --params CSV (a row per case, a 'case_id' column, or the one named by
--id-column, holding the case id; one column per parameter), batch-wide ones from
--param NAME=VALUE; a non-empty CSV cell wins.

Without --workers or --scheduler the cases run one after another in this process. --workers N
starts a local Dask cluster of N worker processes; --scheduler ADDRESS uses an existing Dask
cluster (its workers must see INPUT_DIR, OUTPUT_DIR and the model folder under the same paths).
Each worker loads the model once; outputs are identical to a serial run."""


_EXAMPLES = (
    ("run-model", "run-model scans/ edges/ --model demo-edges --workers 2"),
    ("synth-ct", "synth-ct mr/ sct/ --param uncertainty=yes --workers 2"),
    ("predict-future", "predict-future t1/ future/ --params subjects.csv --param years=5"),
    ("anomaly-map", "anomaly-map archive/ maps/ --scheduler tcp://dask-head:8786"),
)


def _epilog() -> str:
    lines = ["tasks and their parameters:"]
    for task in BATCH_TASKS.values():
        lines.append(f"  {task.name}: {task.description}")
        lines += [textwrap.indent(p.describe(), "      ") for p in task.parameters(None)]
    lines += ["", "examples:"] + [f"  medsynth batch {example}" for task, example in _EXAMPLES if task in BATCH_TASKS]
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("batch", help="run a task over every case of a folder (resumable, Dask)",
                                   description=_DESCRIPTION, epilog=_epilog(),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=list(BATCH_TASKS), metavar="TASK", help=", ".join(BATCH_TASKS))
    parser.add_argument("input_dir", metavar="INPUT_DIR", help="folder of image files and/or DICOM series folders")
    parser.add_argument("output_dir", metavar="OUTPUT_DIR", help="folder for outputs and the results CSV")
    parser.add_argument("--model",
                        help="model id (default: the first installed model of the task; required for run-model)")
    parser.add_argument("--params", metavar="CSV", help="per-case parameters, one row per case")
    parser.add_argument("--id-column", default="case_id", metavar="NAME",
                        help="column of the parameters CSV holding the case id (default: case_id)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter for every case (repeatable)")
    parser.add_argument("--outside-domain", action="store_true",
                        help="run cases outside the model's validated domain too (same as --param outside_domain=yes); "
                             "their outputs are stamped 'outside the validated domain'")
    parser.add_argument("--workers", type=int, metavar="N", help="run on a local Dask cluster of N worker processes")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster at ADDRESS (tcp://host:8786)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="onnxruntime threads per case (default: all cores serially, each worker's share on Dask)")
    parser.add_argument("--format", default="nii.gz", choices=OUTPUT_FORMATS,
                        help="output image format (default nii.gz)")
    parser.add_argument("--overwrite", action="store_true", help="run every case again, even those already done")
    parser.add_argument("--dry-run", action="store_true",
                        help="only say which cases would run, be skipped or fail for their parameters; write nothing")
    parser.set_defaults(func=run)
    declare(parser, inputs=("input_dir", "params"), out_dirs=("output_dir",))


def run(args: argparse.Namespace) -> int:
    if args.dry_run:
        return _dry_run(args)
    with progress_bar(f"{args.task} batch") as progress:
        summary = run_batch(args.task, args.input_dir, args.output_dir, model=args.model,
                            params=_parse_params(args), params_csv=args.params, id_column=args.id_column,
                            workers=args.workers, scheduler=args.scheduler, threads=args.threads,
                            overwrite=args.overwrite, output_format=args.format, progress=progress)
    print(summary.describe())
    _print_failures(summary.failed, summary.results_csv)
    return 1 if summary.failed else 0


def _dry_run(args: argparse.Namespace) -> int:
    plan = plan_batch(args.task, args.input_dir, args.output_dir, model=args.model, params=_parse_params(args),
                      params_csv=args.params, id_column=args.id_column, overwrite=args.overwrite,
                      output_format=args.format)
    print(f"{len(plan.cases)} cases: {len(plan.jobs)} to run, {plan.count(SKIPPED)} already done (skipped), "
          f"{plan.count(FAILED)} with unusable parameters")
    _print_failures([row for row in plan.rows.values() if row.status == FAILED], plan.results.path)
    return 1 if plan.count(FAILED) else 0


def _print_failures(failed: list[CaseResult], results_csv: Path) -> None:
    for result in failed[:SHOWN_FAILURES]:
        print(f"  failed: {result.case_id}: {result.error}")
    if len(failed) > SHOWN_FAILURES:
        print(f"  … and {len(failed) - SHOWN_FAILURES} more (see {results_csv})")


def _parse_params(args: argparse.Namespace) -> dict[str, str]:
    """``--param NAME=VALUE`` pairs (and ``--outside-domain``) as the parameters of every case."""
    params = {"outside_domain": "yes"} if args.outside_domain else {}
    for pair in args.param:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise InputError(f"--param takes NAME=VALUE, got '{pair}'.")
        params[name.strip().lower()] = value.strip()
    return params

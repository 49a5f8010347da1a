"""``medsynth evaluate anomaly``: voxel and scan-level figures of anomaly methods on a benchmark."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from medsynth.errors import InputError
from medsynth.io import write_text_atomic
from medsynth.io.guard import declare

_DESCRIPTION = """\
Evaluate the anomaly model and the z-score baseline on a benchmark built by
'medsynth anomaly-benchmark' (every case is analysed end to end, registration included).

Voxel metrics on the test lesions, pooled, inside the brain: AUROC, AUPRC, Dice* (best Dice over
all thresholds: an UPPER BOUND, the threshold is chosen on the data it scores) and Dice at the
threshold that maximises Dice on the validation split. Also: findings on the healthy test scans,
and scan-level average precision of the artefact score per artefact type (positives: scans with
that artefact; negatives: clean and lesion scans).

  medsynth evaluate anomaly bench/ [--model ID] [--methods model baseline] [--out report.json]
"""


def register_evaluate(evaluate_subparsers: argparse._SubParsersAction) -> None:
    parser = evaluate_subparsers.add_parser("anomaly", help="anomaly maps: AUROC, AUPRC, Dice, artefact AP",
                                            description=_DESCRIPTION,
                                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", type=Path, help="benchmark folder (with manifest.json)")
    parser.add_argument("--model", help="anomaly model id (default: the first installed anomaly model)")
    parser.add_argument("--methods", nargs="+", choices=("model", "baseline"), default=["model", "baseline"])
    parser.add_argument("--out", type=Path, help="write the full report as JSON here")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    parser.set_defaults(func=run_evaluate_anomaly)
    declare(parser, inputs=("benchmark",), outputs={"out": (".json",)})


def run_evaluate_anomaly(args: argparse.Namespace) -> int:
    from medsynth.benchmarks.anomaly.evaluate import benchmark_report, score_cases
    from medsynth.cli.progress import progress_bar
    from medsynth.models import ModelRegistry
    from medsynth.runtime import OnnxGenerator
    from medsynth.tasks.anomaly.settings import AnomalySettings

    if not args.benchmark.is_dir():
        raise InputError(f"Benchmark folder not found: {args.benchmark}. Build one with 'medsynth anomaly-benchmark'.")
    entry = ModelRegistry.default().find(args.model, task="anomaly")
    model = OnnxGenerator(entry)
    with progress_bar(f"Evaluating {entry.card.id}") as progress:
        outcomes = score_cases(args.benchmark, model, args.methods, log=lambda line: None, progress=progress)
    settings = AnomalySettings.from_card(entry.card)
    report = benchmark_report(outcomes, args.methods, settings.min_finding_ml,
                              {m: settings.threshold_for(m) for m in args.methods})
    text = json.dumps(report.to_dict(), indent=2)
    if args.out is not None:
        write_text_atomic(args.out, text + "\n")
    print(text if args.json else f"Model {entry.card.id} {entry.card.version}\n{report.table()}")
    return 0

"""Benchmark the built-in anomaly model against the z-score baseline; print the table (and update the card).

    .venv/bin/python Testing/anomaly/evaluate_builtin.py [--work DIR] [--write-card]

Builds the benchmark of the held-out IXI subjects (``medsynth anomaly-benchmark``, seed 0) unless
``--work`` already holds it, scores every case end to end with both methods, and prints the
figures side by side (test split; thresholds from the validation split). ``--write-card`` stores
them in the card's ``validation.metrics`` (weights untouched, card re-validated) and writes the
table into the model folder's README between the BENCHMARK markers.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from medsynth.benchmarks.anomaly.build import (HELD_OUT_SPLIT, MANIFEST_NAME, build_benchmark, held_out_inputs,
                                               shared_benchmark_sources)
from medsynth.benchmarks.anomaly.evaluate import benchmark_report, score_cases
from medsynth.models import ModelRegistry
from medsynth.runtime import OnnxGenerator
from medsynth.sample_data import shared_data_dir
from medsynth.tasks.anomaly.settings import AnomalySettings

MODEL_ID = "anomaly-brain-t1"
README_START, README_END = "<!-- BENCHMARK START -->", "<!-- BENCHMARK END -->"
FIGURES = ("auroc", "auprc", "dice_upper_bound", "dice_at_validation_threshold", "validation_threshold",
           "dice_at_operating_threshold", "operating_threshold")


def flat_metrics(report) -> dict:
    """The card's ``validation.metrics``: one flat key per figure and method (shown by ``models show``)."""
    metrics = {}
    for method, figures in report.methods.items():
        for key in FIGURES:
            metrics[f"{method}_{key}"] = round(getattr(figures, key), 4)
        for variant, value in figures.auprc_by_variant.items():
            metrics[f"{method}_auprc_{variant}"] = round(value, 4)
        metrics[f"{method}_healthy_test_scans_with_findings"] = (
            f"{figures.healthy_scans_with_findings}/{figures.healthy_scans}")
        for kind, value in figures.artefact_ap.items():
            metrics[f"{method}_artefact_ap_{kind}"] = round(value, 4)
        for kind, value in figures.artefact_ap_residual_only.items():
            metrics[f"{method}_artefact_ap_{kind}_residual_only"] = round(value, 4)
        metrics[f"{method}_artefact_label_accuracy"] = round(figures.artefact_label_accuracy, 4)
    metrics["region"] = report.region
    metrics["note"] = "Dice upper bound = best Dice over thresholds on the test data itself (optimistic)."
    return metrics


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "medsynth-anomaly-benchmark")
    parser.add_argument("--write-card", action="store_true")
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("The shared data corpus is needed (set MEDSYNTH_SHARED_DATA).")
    started = time.perf_counter()
    if not (args.work / MANIFEST_NAME).is_file():
        sources = shared_benchmark_sources(data)
        build_benchmark(args.work, {s: held_out_inputs(data, p) for s, p in HELD_OUT_SPLIT.items()},
                        sources["lesions"], sources["template"])
    entry = ModelRegistry.default().find(MODEL_ID)
    settings = AnomalySettings.from_card(entry.card)
    outcomes = score_cases(args.work, OnnxGenerator(entry, threads=2), ("model", "baseline"), settings)
    report = benchmark_report(outcomes, ("model", "baseline"), settings.min_finding_ml,
                              {m: settings.threshold_for(m) for m in ("model", "baseline")})
    table = report.table()
    print(table)
    print(f"({(time.perf_counter() - started) / 60:.1f} min)")
    (args.work / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    if args.write_card:
        from medsynth.training.cards import write_card

        card = json.loads((entry.folder / "card.json").read_text(encoding="utf-8"))
        card["validation"]["metrics"] = flat_metrics(report)
        write_card(entry.folder, card, entry.weights_path)
        readme = entry.folder / "README.md"
        text = readme.read_text(encoding="utf-8")
        if README_START in text and README_END in text:
            before, rest = text.split(README_START, 1)
            after = rest.split(README_END, 1)[1]
            readme.write_text(f"{before}{README_START}\n```\n{table}\n```\n{README_END}{after}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Print the held-out evaluation table of the built-in future-MRI model (for its card and README).

    .venv/bin/python Testing/future/evaluate_builtin.py [--years 2] [--age 72] [--model future-t1-brain]

For each held-out IXI subject and each diagnosis: the annual % change of the hippocampus,
ventricles and whole brain measured on the model's output with the subject's real DLMUSE
parcellation (✓ inside the literature range for that diagnosis, ✗ outside; the simulator's value
in brackets), then SSIM and MAE (% of the brain's 99.5th-percentile intensity) of the prediction
and of the "no change" baseline (the input copied) against the simulated follow-up.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from medsynth.models.registry import ModelRegistry
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.sample_data import shared_data_dir
from medsynth.training.future.evaluate import (HELD_OUT, card_metrics, evaluate_subject, ixi_subjects, region_dice,
                                               table_markdown)
from medsynth.training.future.literature import DIAGNOSES, literature_range


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="future-t1-brain")
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--age", type=float, default=72.0)
    parser.add_argument("--json", action="store_true", help="also print the card's summary metrics as JSON")
    args = parser.parse_args(argv)
    data = shared_data_dir()
    if data is None:
        print("shared/data not found; set MEDSYNTH_SHARED_DATA", file=sys.stderr)
        return 1
    started = time.perf_counter()
    model = OnnxGenerator(ModelRegistry.default().find(args.model))
    subjects = [s for s in ixi_subjects(data / "subjects_t1") if s.id in HELD_OUT]
    cases = [case for subject in subjects for case in evaluate_subject(model, subject, DIAGNOSES, args.years, args.age)]
    print(f"Model {model.card.id} {model.card.version}; held-out subjects {', '.join(HELD_OUT)}; "
          f"age {args.age:g}, {args.years:g} years\n")
    print(table_markdown(cases))
    print("\nLiterature ranges (%/yr) used for ✓/✗:")
    for region in ("hippocampus", "ventricles", "whole_brain"):
        ranges = ", ".join(f"{d} {low:+.2f}…{high:+.2f}" for d in DIAGNOSES
                           for low, high in [literature_range(region, d, args.age)])
        print(f"  {region}: {ranges}")
    dice = [region_dice(model, subject) for subject in subjects]
    print("\nRegion Dice of the model's own regions vs DLMUSE (model grid):")
    for subject, values in zip(subjects, dice):
        print(f"  {subject.id}: " + ", ".join(f"{name} {value:.2f}" for name, value in values.items()))
    if args.json:
        print(json.dumps(card_metrics(cases, dice), indent=2))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

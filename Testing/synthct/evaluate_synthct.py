"""Print the built-in synthetic-CT model's validation table (model vs baselines) as Markdown.

    python Testing/synthct/evaluate_synthct.py [--data ../shared/data] [--model synthct-head] [--tta N]

Recomputes everything (the model through the runtime, the baselines from the TPM and the MR
classification); the figures must equal those in the model card's ``validation.metrics``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from medsynth.models.registry import ModelRegistry
from medsynth.tasks.synthct import synth_ct
from medsynth.training.synthct import validation
from medsynth.training.synthct.builtin import default_data_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="shared/data folder (default: beside the repository)")
    parser.add_argument("--model", default="synthct-head", help="installed synth-ct model id")
    parser.add_argument("--tta", type=int, default=1, help="test-time augmentation passes (the card uses 1)")
    parser.add_argument("--json", action="store_true", help="print the card metrics as JSON after the table")
    args = parser.parse_args(argv)
    data_dir = args.data or default_data_dir()
    entry = ModelRegistry.default().find(args.model, task="synth-ct")

    def synthesize(mr):
        return synth_ct(mr, entry, tta_passes=args.tta).ct

    report = validation.ValidationReport(validation.evaluate_template_pair(synthesize, data_dir),
                                         validation.evaluate_skull(synthesize, data_dir))
    print(f"Model {entry.card.id} {entry.card.version} ({entry.weights_path.name}), TTA passes {args.tta}\n")
    print(report.table())
    if args.json:
        print(json.dumps(report.card_metrics(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

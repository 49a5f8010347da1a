"""``medsynth evaluate dossier``: one validation report of a generator over a cohort, against declared criteria.

Needs the optional extra ``dose`` (pyRadPlan) for the dose part; without it the command exits with a
one-line error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from medsynth.io.guard import declare

_DESCRIPTION = """\
Validation dossier of a synthetic-CT model: one HTML page a commissioning meeting can read.

  medsynth evaluate dossier MODEL --cohort DIR --out report.html [--criteria criteria.json]
                            [--modality photon|proton|both] [--grid-mm 4]

DIR/<case>/ holds mr.<ext> and ct.<ext> on one grid, optionally mask.<ext> (image-metric mask; default
the CT's body), target.<ext> (the PTV; default a 15 mm sphere at the body's deepest point) and
source.txt (one line: how the model saw this data, e.g. "used-in-training", "used-for-calibration",
"untouched"). For every case the model makes the sCT from the MR (outside its domain too, reported),
then: SynthRAD2023 image metrics, Dice / HD95 of body, bone and air, and the photon / proton dose
metrics of `medsynth evaluate dose` with their pictures. Each criterion of the criteria file (JSON:
{"figure": {"min"|"max": number, "why": text}}, default: built-in commissioning tolerances) is judged
on the worst case, with a pass / FAIL / not-measured line. Also written: report.json and report_files/.
"""


def register_evaluate(evaluate_subparsers: argparse._SubParsersAction) -> None:
    """Add ``medsynth evaluate dossier``."""
    parser = evaluate_subparsers.add_parser(
        "dossier",
        help="validation dossier of a synthetic-CT model over a cohort (HTML, criteria pass/fail, pictures)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", help="model id, e.g. synthct-head")
    parser.add_argument("--cohort", type=Path, required=True, metavar="DIR", help="folder with one sub-folder per case")
    parser.add_argument("--out", type=Path, required=True, metavar="HTML", help="the report page (.html)")
    parser.add_argument("--criteria", type=Path, metavar="JSON", help="acceptance criteria (default: built-in)")
    parser.add_argument("--modality", choices=("photon", "proton", "both"), default="both")
    parser.add_argument("--grid-mm", type=float, help="dose grid spacing in mm (2 to 10; default from the CT)")
    parser.set_defaults(func=run_dossier)
    declare(parser, inputs=("cohort", "criteria"), outputs={"out": (".html",)})


def run_dossier(args: argparse.Namespace) -> int:
    """Entry point of ``medsynth evaluate dossier``; exit 0 when every criterion passes, 1 otherwise."""
    from medsynth.cli.progress import progress_bar  # noqa: PLC0415
    from medsynth.dossier.run import make_dossier  # noqa: PLC0415 - heavy optional engine

    modalities = ["photon", "proton"] if args.modality == "both" else [args.modality]
    with progress_bar(f"Dossier of {args.model}") as progress:
        content = make_dossier(args.model, args.cohort, args.out, args.criteria, modalities, args.grid_mm, progress)
    for verdict in content["criteria"]:
        bound = "min" if "min" in verdict else "max"
        worst = "not measured" if verdict["worst"] is None else f"{verdict['worst']:.4g}"
        print(f"{verdict['status']:>12}  {verdict['figure']} ({bound} {verdict[bound]:g}): worst {worst} "
              f"({verdict['worst_case']})")
    print(f"Dossier written to {args.out}")
    return 0 if all(v["status"] == "pass" for v in content["criteria"]) else 1

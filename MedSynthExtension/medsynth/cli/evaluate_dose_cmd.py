"""``medsynth evaluate dose``: plan on the real CT, recompute on the sCT, report dose metrics.

Needs the optional extra ``dose`` (pyRadPlan); without it the command exits with a one-line error.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from medsynth.errors import InputError
from medsynth.io import write_text_atomic
from medsynth.io.guard import declare

#: The engine's modalities (medsynth.dose.engine.MODALITIES, repeated so that parsing imports no engine).
MODALITY_CHOICES = ("photon", "proton", "both")

_DESCRIPTION = """\
Dose evaluation of a synthetic CT (SynthRAD style).

A fixed plan (photon: 5 coplanar fields; proton: one lateral field) is optimised on the real CT for
the target (--target, or a 15 mm sphere placed at the deepest point of the body and reported), and
the same fluence / spot weights are recomputed on the sCT. Reported: gamma pass rate (global
2 %/2 mm, 10 % low-dose cut-off), dose MAE over voxels with CT dose >= 90 % of the prescription
(% of prescription), target D98 and Paddick conformity on both; for protons the range shift,
R80(sCT) - R80(CT) in mm on the central ray through the target (> 0: the beam goes deeper in the sCT).

One case:
  medsynth evaluate dose --ct ct.nii.gz --sct sct.nii.gz [--mask body.nii.gz] [--target ptv.nii.gz]
                         [--modality photon|proton|both] [--grid-mm 4] [--out-dir DIR] [--json]
A cohort (one table, a progress bar, failed cases reported and the others scored):
  medsynth evaluate dose --cohort DIR|cases.csv [--sct-dir PRED_DIR] [--out table.csv] [--out-dir DIR]

  DIR/<case>/ct.<ext>, sct.<ext> (or PRED_DIR/<case>.<ext>), optional mask.<ext> and target.<ext>;
  or a CSV with columns case, ct, sct[, mask, target] (paths relative to the CSV).

With --out-dir, per modality (and per case in a cohort: DIR/<case>/<modality>/): ct_dose, sct_dose,
dose_difference (sCT - CT, Gy) and gamma volumes (.nii.gz), dose.png (CT dose | sCT dose |
|difference| | gamma, axial through the target) and dvh.png. The dose grid defaults to the CT's
coarsest spacing (at least 2 mm); a coarser --grid-mm runs faster.
"""


def register_evaluate(evaluate_subparsers: argparse._SubParsersAction) -> None:
    """Add ``medsynth evaluate dose``."""
    parser = evaluate_subparsers.add_parser(
        "dose",
        help="photon/proton dose of a synthetic CT against the real CT (gamma, dose MAE, DVH)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    one = parser.add_argument_group("one case")
    one.add_argument("--ct", type=Path, help="real CT in HU")
    one.add_argument("--sct", type=Path, help="synthetic CT in HU, on the CT's grid")
    one.add_argument("--mask", type=Path, help="body mask (default: from HU > -500)")
    one.add_argument("--target", type=Path, help="target (PTV) mask (default: placed automatically)")
    many = parser.add_argument_group("a cohort")
    many.add_argument("--cohort", type=Path, metavar="DIR|CSV", help="folder with one sub-folder per case, or a CSV")
    many.add_argument("--sct-dir", type=Path, metavar="PRED_DIR", help="synthetic CTs as PRED_DIR/<case>.<ext>")
    many.add_argument("--out", type=Path, metavar="CSV", help="write the per-case table to this CSV file")
    parser.add_argument("--modality", choices=MODALITY_CHOICES, default="photon")
    parser.add_argument("--grid-mm", type=float, help="dose grid spacing in mm (2 to 10; default from the CT)")
    parser.add_argument("--out-dir", type=Path, help="write dose, difference and gamma volumes and pictures here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run_dose)
    declare(parser, inputs=("ct", "sct", "mask", "target", "cohort", "sct_dir"), outputs={"out": (".csv",)},
            out_dirs=("out_dir",))


def _modalities(choice: str) -> list[str]:
    return ["photon", "proton"] if choice == "both" else [choice]


def run_dose(args: argparse.Namespace) -> int:
    """Entry point of ``medsynth evaluate dose``; returns the exit status."""
    single = [args.ct, args.sct, args.mask, args.target]
    if args.cohort is not None:
        if any(x is not None for x in single):
            raise InputError("Give either --cohort or --ct/--sct (one case), not both.")
        return _run_cohort(args)
    if args.sct_dir is not None or args.out is not None:
        raise InputError("--sct-dir and --out belong to cohort mode; add --cohort DIR.")
    if args.ct is None or args.sct is None:
        raise InputError("Give --ct and --sct (one case) or --cohort DIR|CSV (many cases).")
    return _run_single(args)


def _run_single(args: argparse.Namespace) -> int:
    from medsynth.cli.progress import progress_bar  # noqa: PLC0415
    from medsynth.dose.cohort import DoseCase, read_case_images, write_evaluation  # noqa: PLC0415
    from medsynth.dose.engine import PRESCRIPTION_GY  # noqa: PLC0415 - heavy optional engine
    from medsynth.dose.evaluate import evaluate_dose  # noqa: PLC0415

    ct, sct, body, target = read_case_images(DoseCase("case", args.ct, args.sct, args.mask, args.target))
    reports = []
    for modality in _modalities(args.modality):
        with progress_bar(f"{modality} dose") as progress:
            result = evaluate_dose(ct, sct, body, target, modality, args.grid_mm, progress)
        if args.out_dir is not None:
            write_evaluation(args.out_dir / modality, ct, sct, result, PRESCRIPTION_GY,
                             f"{args.sct.name}, {modality}: synthetic CT vs CT")
        reports.append({"modality": modality, "target": result.target_note, "range_shift_mm": result.range_shift_mm,
                        **result.comparison.as_dict()})
        if not args.json:
            c = result.comparison
            print(f"{modality} dose, target {result.target_note}")
            print(f"  gamma 2%/2mm pass rate  {c.gamma_pass_rate_percent:.2f} %")
            print(f"  dose MAE (>=90% Rx)     {c.dose_mae_percent:.3f} % of prescription")
            print(f"  target D98  CT {c.ct.target_d98:.4f} Gy  sCT {c.sct.target_d98:.4f} Gy")
            print(f"  conformity  CT {c.ct.target_conformity:.3f}     sCT {c.sct.target_conformity:.3f}")
            if result.range_shift_mm is not None:
                print(f"  range shift (R80, central ray)  {result.range_shift_mm:+.2f} mm (sCT - CT)")
    if args.json:
        print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    return 0


def _run_cohort(args: argparse.Namespace) -> int:
    from medsynth.cli.progress import progress_bar  # noqa: PLC0415
    from medsynth.dose.cohort import cohort_csv, evaluate_cohort, read_cohort  # noqa: PLC0415
    from medsynth.dose.engine import PRESCRIPTION_GY  # noqa: PLC0415 - heavy optional engine

    cases = read_cohort(args.cohort, args.sct_dir)
    modalities = _modalities(args.modality)
    with progress_bar(f"Dose of {len(cases)} cases x {len(modalities)} modalities") as progress:
        results = evaluate_cohort(cases, modalities, args.grid_mm, args.out_dir, progress)
    table = cohort_csv(results, PRESCRIPTION_GY)
    if args.out is not None:
        write_text_atomic(args.out, table)
    summary = {}
    for modality in modalities:
        scored = [r.comparison for r in results if r.modality == modality and r.comparison is not None]
        summary[modality] = {key: _mean_sd([getattr(c, attr) for c in scored]) for key, attr in
                             (("gamma_pass_percent", "gamma_pass_rate_percent"), ("dose_mae_percent", "dose_mae_percent"))}
    if args.json:
        print(json.dumps({"cases": [r.row(PRESCRIPTION_GY) for r in results], "summary": summary}, indent=2))
    else:
        print(table if args.out is None else f"Per-case dose table written to {args.out}", end="\n" if args.out else "")
        for modality, figures in summary.items():
            g, m = figures["gamma_pass_percent"], figures["dose_mae_percent"]
            print(f"{modality}: {g['n']} cases scored; gamma 2%/2mm {g['mean']} ± {g['sd']} %, "
                  f"dose MAE {m['mean']} ± {m['sd']} % of prescription (mean ± sd)")
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"medsynth: case {r.case} ({r.modality}) not scored: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def _mean_sd(values: list[float]) -> dict[str, float | int | None]:
    """Mean and sample standard deviation, rounded; None where undefined."""
    mean = round(statistics.fmean(values), 3) if values else None
    sd = round(statistics.stdev(values), 3) if len(values) > 1 else None
    return {"mean": mean, "sd": sd, "n": len(values)}

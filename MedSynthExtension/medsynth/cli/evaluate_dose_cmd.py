"""``medsynth evaluate dose``: plan on the real CT, recompute on the sCT, report dose metrics.

Needs the optional extra ``dose`` (pyRadPlan); without it the command exits with a one-line error.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from medsynth.dose.engine import MODALITIES
from medsynth.errors import InputError
from medsynth.io import read_image, write_image

_DESCRIPTION = """\
Dose evaluation of a synthetic CT (SynthRAD style).

A fixed plan (photon: 5 coplanar fields; proton: one lateral field) is optimised on the real CT for
the target (--target, or a 15 mm sphere placed at the deepest point of the body and reported), and
the same fluence / spot weights are recomputed on the sCT. Reported: gamma pass rate (global
2 %/2 mm, 10 % low-dose cut-off), dose MAE over voxels with CT dose >= 90 % of the prescription
(% of prescription), target D98 and Paddick conformity on both.

  medsynth evaluate dose --ct ct.nii.gz --sct sct.nii.gz [--mask body.nii.gz] [--target ptv.nii.gz]
                         [--modality photon|proton] [--out-dir DIR] [--json]

With --out-dir: ct_dose, sct_dose, dose_difference (sCT - CT, Gy) and gamma volumes (.nii.gz).
"""


def register_evaluate(evaluate_subparsers: argparse._SubParsersAction) -> None:
    """Add ``medsynth evaluate dose``."""
    parser = evaluate_subparsers.add_parser(
        "dose",
        help="photon/proton dose of a synthetic CT against the real CT (gamma, dose MAE, DVH)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--ct", type=Path, required=True, help="real CT in HU")
    parser.add_argument("--sct", type=Path, required=True, help="synthetic CT in HU, on the CT's grid")
    parser.add_argument("--mask", type=Path, help="body mask (default: from HU > -500)")
    parser.add_argument("--target", type=Path, help="target (PTV) mask (default: placed automatically)")
    parser.add_argument("--modality", choices=MODALITIES, default="photon")
    parser.add_argument("--out-dir", type=Path, help="write dose, difference and gamma volumes here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run_dose)


def run_dose(args: argparse.Namespace) -> int:
    """Entry point of ``medsynth evaluate dose``; returns the exit status."""
    from medsynth.dose.evaluate import evaluate_dose  # noqa: PLC0415 - heavy optional engine

    ct, sct = read_image(args.ct), read_image(args.sct)
    body = read_image(args.mask) if args.mask else None
    target = read_image(args.target) if args.target else None
    if args.out_dir is not None and args.out_dir.exists() and not args.out_dir.is_dir():
        raise InputError(f"--out-dir {args.out_dir} exists and is not a folder.")
    result = evaluate_dose(ct, sct, body, target, args.modality)
    report = {"modality": args.modality, "target": result.target_note, **result.comparison.as_dict()}
    if args.out_dir is not None:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        write_image(result.ct_dose, args.out_dir / "ct_dose.nii.gz")
        write_image(result.sct_dose, args.out_dir / "sct_dose.nii.gz")
        write_image(result.sct_dose - result.ct_dose, args.out_dir / "dose_difference.nii.gz")
        write_image(result.gamma, args.out_dir / "gamma.nii.gz")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        c = result.comparison
        print(f"{args.modality} dose, target {result.target_note}")
        print(f"  gamma 2%/2mm pass rate  {c.gamma_pass_rate_percent:.2f} %")
        print(f"  dose MAE (>=90% Rx)     {c.dose_mae_percent:.3f} % of prescription")
        print(f"  target D98  CT {c.ct.target_d98:.4f} Gy  sCT {c.sct.target_d98:.4f} Gy")
        print(f"  conformity  CT {c.ct.target_conformity:.3f}     sCT {c.sct.target_conformity:.3f}")
    return 0

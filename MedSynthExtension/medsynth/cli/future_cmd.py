"""``medsynth predict-future T1 OUT``: the brain T1 predicted years ahead, change map and volume table."""

from __future__ import annotations

import argparse
import json

from medsynth.cli.progress import progress_bar, warn_outside
from medsynth.io import read_image, write_image, write_text_atomic
from medsynth.io.guard import IMAGE_OUTPUT, declare

_DESCRIPTION = """\
Predict a brain T1 MRI years ahead for a given age, sex, diagnosis (CN, MCI or AD) and interval,
with a model trained on simulated progression (literature atrophy rates). Writes the predicted
T1 on the input's grid and, on request, the change map and a table of regional volumes.

  medsynth predict-future T1.nii.gz OUT.nii.gz --age 72 --sex F --diagnosis MCI --years 3 \\
      [--change-map LOSS.nii.gz] [--volumes VOLUMES.csv] [--labels DLMUSE.nii.gz] [--pictures DIR]

The change map is the local tissue loss in % of the baseline volume (positive = shrinkage,
negative = expansion, e.g. of the ventricles), aligned with the predicted image. The volume
table (CSV) lists each region at baseline and predicted, in mL, with the % change and % per
year; regions come from --labels (a MUSE/DLMUSE parcellation of the input) or, without it, from
the model's own region estimate (column measured_on says which).

Refused with a clear message: age or years outside the model's range, an unknown sex or
diagnosis, a non-T1 input (T2, PD, CT; FLAIR only when --labels is given), a 2D or broken image.
The input is never changed.
For research and teaching only: the prediction shows typical group rates, not a prognosis.

Train your own model (longitudinal BIDS data, see medsynth.training.future.bids):
  python -m medsynth.training.future.builtin --out MODEL_DIR [--bids ROOT --pipeline NAME]
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict-future", help="predicted future brain T1 with change map and volumes",
                                   description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("t1", help="input T1-weighted MRI: NIfTI, NRRD, MHA file or a DICOM series folder")
    parser.add_argument("output", help="output predicted T1 (.nii.gz, .nii, .nrrd or .mha)")
    parser.add_argument("--age", type=float, required=True, help="age at the input scan, years")
    parser.add_argument("--sex", required=True, help="F or M")
    parser.add_argument("--diagnosis", required=True, help="CN, MCI or AD")
    parser.add_argument("--years", type=float, required=True, help="interval to predict, years")
    parser.add_argument("--change-map", metavar="OUT", help="write the tissue-loss map (%%) here")
    parser.add_argument("--volumes", metavar="CSV", help="write the regional volume table here")
    parser.add_argument("--labels", metavar="LABELS", help="MUSE/DLMUSE parcellation of the input, for the volume table")
    parser.add_argument("--pictures", metavar="DIR", help="write PNG pictures (baseline vs predicted, change map) here")
    parser.add_argument("--model", help="model id (default: the first installed future-mri model)")
    parser.add_argument("--provenance", metavar="JSON", help="write the provenance record here")
    parser.add_argument("--outside-domain", action="store_true",
                        help="run even when the input is outside the model's validated domain (contrast, skull, "
                             "spacing); every output is then stamped 'outside the validated domain'")
    parser.set_defaults(func=run)
    declare(parser, inputs=("t1", "labels"), outputs={"output": IMAGE_OUTPUT, "change_map": IMAGE_OUTPUT, "volumes": (".csv",),
                                                      "provenance": (".json",)}, out_dirs=("pictures",))


def run(args: argparse.Namespace) -> int:
    from medsynth.tasks.future import predict_future

    t1 = read_image(args.t1)
    labels = read_image(args.labels) if args.labels else None
    with progress_bar("future MRI") as progress:
        result = predict_future(t1, args.age, args.sex, args.diagnosis, args.years, labels=labels, model=args.model,
                                progress=progress, input_description=str(args.t1),
                                allow_outside=args.outside_domain)
    warn_outside(result.provenance)
    write_image(result.final.image, args.output, provenance=result.provenance)
    if args.change_map:
        write_image(result.final.tissue_loss, args.change_map, provenance=result.provenance)
    if args.volumes:
        result.volumes.write_csv(args.volumes)
    if args.pictures:
        from medsynth.tasks.future_pictures import write_pictures

        write_pictures(result, args.pictures)
    if args.provenance:
        write_text_atomic(args.provenance, json.dumps(result.provenance.to_dict(), indent=2, default=str) + "\n")
    print(f"wrote {args.output} ({args.years:g} years, model {result.provenance.model_id} "
          f"{result.provenance.model_version}, {result.seconds:.1f} s)")
    for region in ("hippocampus", "ventricles", "whole_brain"):
        row = result.volumes.get(region, result.final.years)
        print(f"  {row.title:<22} {row.baseline_ml:9.1f} mL -> {row.predicted_ml:9.1f} mL  "
              f"({row.change_percent:+.1f} %, {row.percent_per_year:+.2f} %/yr, {row.measured_on})")
    return 0

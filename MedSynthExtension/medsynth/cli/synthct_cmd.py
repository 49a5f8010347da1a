"""``medsynth synth-ct MR OUT``: synthetic CT (HU) from a head MRI with an installed model."""

from __future__ import annotations

import argparse
import json

from medsynth.cli.progress import progress_bar, warn_outside
from medsynth.io import read_image, write_image, write_text_atomic
from medsynth.io.guard import IMAGE_OUTPUT, declare


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth-ct", help="synthetic CT (Hounsfield units) from a head MRI",
        description="Make a synthetic CT in Hounsfield units from a head MRI. Air (the model's background HU) is "
                    "written outside the head mask, computed from the MR unless --mask is given. For research and "
                    "demonstration only: not for diagnosis or treatment planning.")
    parser.add_argument("mr", help="input MR: NIfTI, NRRD, MHA file or a DICOM series folder")
    parser.add_argument("output", help="output synthetic CT (.nii.gz, .nii, .nrrd or .mha)")
    parser.add_argument("--model", help="model id (default: the first installed synth-ct model; see 'medsynth models list')")
    parser.add_argument("--mask", help="head/body mask to use instead of computing one from the MR")
    parser.add_argument("--uncertainty", metavar="OUT", help="also write a voxel-wise uncertainty map (HU, standard "
                        "deviation over test-time augmentations) to this file")
    parser.add_argument("--tta", type=int, metavar="N", help="test-time augmentation passes, 1-4 (default 4 with "
                        "--uncertainty, else 1); the synthetic CT is their mean")
    parser.add_argument("--provenance", metavar="JSON", help="write the provenance record (model, sha256, parameters) here")
    parser.add_argument("--outside-domain", action="store_true",
                        help="run even when the input is outside the model's validated domain (contrast, skull, "
                             "spacing); every output is then stamped 'outside the validated domain'")
    parser.set_defaults(func=run)
    declare(parser, inputs=("mr", "mask"), outputs={"output": IMAGE_OUTPUT, "uncertainty": IMAGE_OUTPUT, "provenance": (".json",)})


def run(args: argparse.Namespace) -> int:
    from medsynth.tasks.synthct import synth_ct

    mr = read_image(args.mr)
    mask = read_image(args.mask) if args.mask else None
    with progress_bar("synthetic CT") as progress:
        result = synth_ct(mr, model=args.model, mask=mask, uncertainty=bool(args.uncertainty), tta_passes=args.tta,
                          progress=progress, input_description=str(args.mr), allow_outside=args.outside_domain)
    warn_outside(result.provenance)
    write_image(result.ct, args.output, provenance=result.provenance)
    if args.uncertainty:
        write_image(result.uncertainty, args.uncertainty, provenance=result.provenance)
    if args.provenance:
        write_text_atomic(args.provenance, json.dumps(result.provenance.to_dict(), indent=2, default=str) + "\n")
    print(f"wrote {args.output} (model {result.provenance.model_id} {result.provenance.model_version}, "
          f"{result.passes} pass{'es' if result.passes > 1 else ''}, {result.seconds:.1f} s)")
    return 0

"""``medsynth export-dicom SCT OUTDIR``: write a synthetic CT as a DICOM CT series for planning."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from medsynth.errors import InputError
from medsynth.io.guard import declare

_DESCRIPTION = """\
Write a synthetic CT (in HU) as a DICOM CT series, one file per slice, that a treatment-planning
system can import. Every file is marked synthetic: Synthetic Data (0008,001C) = YES, ImageType
DERIVED\\SECONDARY, SeriesDescription containing SYNTHETIC, and MedSynth as synthesizing
equipment in the Contributing Equipment Sequence.

With --reference-series (the folder of the MR series the sCT was computed from) the sCT joins
that patient and study and shares its frame of reference, so it overlays the MR without
registration; it must still lie in the MR's coordinates (checked). Without it a new anonymous
patient (SYNTHETIC^ANONYMOUS, ID MEDSYNTH-ANON-...) and study are created.

Values are rounded to whole HU and stored as int16; NaN or values beyond int16 are refused.
The folder is written atomically; a non-empty OUTDIR is refused unless --overwrite.

Example:
  medsynth export-dicom sct.nii.gz sct_dicom/ --reference-series mr_dicom/ \\
      --attribute ModelId=synthct-brain --attribute ModelVersion=1.0.0
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``medsynth export-dicom``."""
    parser = subparsers.add_parser(
        "export-dicom",
        help="write a synthetic CT as a DICOM CT series (marked synthetic) for planning systems",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sct", type=Path, metavar="SCT", help="synthetic CT in HU (NIfTI/NRRD/MHA file)")
    parser.add_argument("out_dir", type=Path, metavar="OUTDIR", help="folder to create for the DICOM files")
    parser.add_argument("--reference-series", type=Path, metavar="MR_DICOM_DIR",
                        help="folder of the source MR DICOM series: patient, study and frame of reference are reused")
    parser.add_argument("--series-description", metavar="TEXT",
                        help="series description (SYNTHETIC is prepended when missing; default 'SYNTHETIC CT (MedSynth)')")
    parser.add_argument("--series-number", type=int, metavar="N",
                        help="series number (default 1000 + the reference's, or 1000)")
    parser.add_argument("--attribute", action="append", default=[], metavar="KEY=VALUE",
                        help="extra provenance recorded in the files (repeatable), e.g. ModelId=..., ModelVersion=...")
    parser.add_argument("--overwrite", action="store_true", help="replace the contents of a non-empty OUTDIR")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=_run)
    declare(parser, inputs=("sct", "reference_series"), out_dirs=("out_dir",))


def _run(args: argparse.Namespace) -> int:
    from medsynth.io.dicom_export import export_sct_dicom

    attributes = {}
    for item in args.attribute:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--attribute expects KEY=VALUE, got {item!r}.")
        attributes[key.strip()] = value.strip()
    result = export_sct_dicom(
        args.sct,
        args.out_dir,
        reference_series=args.reference_series,
        series_description=args.series_description,
        series_number=args.series_number,
        extra_attributes=attributes,
        overwrite=args.overwrite,
    )
    summary = {
        "out_dir": str(result.out_dir),
        "files": len(result.files),
        "patient_id": result.patient_id,
        "study_instance_uid": result.study_instance_uid,
        "series_instance_uid": result.series_instance_uid,
        "frame_of_reference_uid": result.frame_of_reference_uid,
        "slice_order_reversed": result.slice_order_reversed,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"Wrote {len(result.files)} synthetic CT slices to {result.out_dir}")
        for key in ("patient_id", "study_instance_uid", "series_instance_uid", "frame_of_reference_uid"):
            print(f"  {key:<24}{summary[key]}")
    return 0

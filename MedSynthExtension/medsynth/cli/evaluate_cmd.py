"""``medsynth evaluate``: score generated images against the real ones.

``evaluate`` is a command group. This module registers the group and its ``sct`` subcommand
(SynthRAD image metrics of synthetic CTs). To add another subcommand (``medsynth evaluate
anomaly``), write a module exposing ``register_evaluate(evaluate_subparsers)`` that adds a parser
to the given sub-parsers and sets ``func`` on it, then list the module in
:data:`EVALUATE_SUBCOMMAND_MODULES`; nothing else here needs to change.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from medsynth.errors import InputError, MedSynthError
from medsynth.io import IMAGE_SUFFIXES, read_image, write_text_atomic
from medsynth.io.hu_check import check_looks_like_ct
from medsynth.metrics.synthrad import EDITIONS, SCTMetrics, evaluate_sct
from medsynth.io.guard import declare

#: Modules adding further ``medsynth evaluate <what>`` subcommands, each exposing
#: ``register_evaluate(evaluate_subparsers)``; listed in the order ``--help`` shows them.
EVALUATE_SUBCOMMAND_MODULES: tuple[str, ...] = ("medsynth.cli.evaluate_anomaly_cmd", "medsynth.cli.evaluate_dose_cmd",
                                                 "medsynth.cli.evaluate_dossier_cmd")

#: File names (without ending) looked for inside each case folder of a cohort.
CT_STEM, SCT_STEM, MASK_STEM = "ct", "sct", "mask"

_METRIC_KEY = {"2023": "ssim", "2025": "ms_ssim"}
_METRIC_LABEL = {"mae": ("MAE", "HU"), "psnr": ("PSNR", "dB"), "ssim": ("SSIM", ""), "ms_ssim": ("MS-SSIM", "")}

_SCT_DESCRIPTION = """\
SynthRAD image metrics of synthetic CTs against real CTs, inside a mask.

  2023: MAE (HU, no clipping), PSNR (dB, range -1024..3000 HU), SSIM (masked, 7x7x7 window)
  2025: MAE (HU), PSNR (dB, range -1024..3071 HU), MS-SSIM (masked, 5 levels); voxels outside
        the mask are set to -1024 HU first

One case:
  medsynth evaluate sct --ct ct.nii.gz --sct sct.nii.gz --mask mask.nii.gz [--edition 2025] [--json]

A cohort (SynthRAD layout, one folder per case):
  medsynth evaluate sct --cohort DIR [--sct-dir PRED_DIR] [--out metrics.csv]

  DIR/<case>/ct.<ext>     the real CT in HU                (<ext>: .nii.gz .nii .mha .mhd .nrrd .nhdr)
  DIR/<case>/mask.<ext>   the evaluation mask (> 0 is in)
  DIR/<case>/sct.<ext>    the synthetic CT, or with --sct-dir: PRED_DIR/<case>.<ext>

Every sub-folder of DIR holding a ct file is a case. A case whose files cannot be read or do
not share one voxel grid is reported in the CSV's 'error' column and left out of the summary;
the command then exits with status 1. Without --out the per-case table is printed. The summary
gives mean +- sample standard deviation over the scored cases. PSNR is infinite (JSON: null)
when sCT and CT are identical inside the mask.

The CT, sCT and mask must share one voxel grid (size, spacing, origin, direction); resample the
sCT onto the CT grid first otherwise.
"""


@dataclass(frozen=True)
class CaseFiles:
    """The three files of one cohort case."""

    case: str
    ct: Path
    sct: Path | None
    mask: Path | None


@dataclass(frozen=True)
class CaseResult:
    """Metrics of one case, or why it could not be scored."""

    case: str
    metrics: SCTMetrics | None
    error: str | None = None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` group, its ``sct`` subcommand and those of :data:`EVALUATE_SUBCOMMAND_MODULES`."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score synthetic images against real ones (SynthRAD metrics, ...)",
        description="Score generated images against the real ones. Choose what to evaluate:",
    )
    evaluate_subparsers = parser.add_subparsers(dest="evaluate_command", metavar="WHAT", required=True)
    register_sct(evaluate_subparsers)
    for module_name in EVALUATE_SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register_evaluate(evaluate_subparsers)


def register_sct(evaluate_subparsers: argparse._SubParsersAction) -> None:
    """Add ``medsynth evaluate sct``."""
    parser = evaluate_subparsers.add_parser(
        "sct",
        help="SynthRAD2023/2025 MAE, PSNR, SSIM / MS-SSIM of synthetic CTs",
        description=_SCT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    one = parser.add_argument_group("one case")
    one.add_argument("--ct", type=Path, metavar="CT", help="real CT in HU (image file or DICOM folder)")
    one.add_argument("--sct", type=Path, metavar="SCT", help="synthetic CT in HU, on the CT's grid")
    one.add_argument("--mask", type=Path, metavar="MASK", help="evaluation mask, voxels > 0 are scored")
    cohort = parser.add_argument_group("a cohort")
    cohort.add_argument("--cohort", type=Path, metavar="DIR", help="folder with one sub-folder per case")
    cohort.add_argument("--sct-dir", type=Path, metavar="PRED_DIR", help="synthetic CTs as PRED_DIR/<case>.<ext>")
    cohort.add_argument("--out", type=Path, metavar="CSV", help="write the per-case metrics to this CSV file")
    parser.add_argument("--edition", choices=EDITIONS, default="2023", help="SynthRAD edition (default: 2023)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run_sct)
    declare(parser, inputs=("ct", "sct", "mask", "cohort", "sct_dir"), outputs={"out": (".csv",)})


def run_sct(args: argparse.Namespace) -> int:
    """Entry point of ``medsynth evaluate sct``; returns the exit status."""
    single = [args.ct, args.sct, args.mask]
    if args.cohort is not None:
        if any(x is not None for x in single):
            raise InputError("Give either --cohort or --ct/--sct/--mask, not both.")
        return _run_cohort(args)
    if args.sct_dir is not None or args.out is not None:
        raise InputError("--sct-dir and --out belong to cohort mode; add --cohort DIR.")
    if any(x is None for x in single):
        raise InputError("Give --ct, --sct and --mask (one case) or --cohort DIR (a folder of cases).")
    metrics = evaluate_sct(*_read_case(args.ct, args.sct, args.mask), args.edition)
    if args.json:
        print(json.dumps(_json_safe(metrics.as_dict()), indent=2))
    else:
        print(f"SynthRAD{metrics.edition} image metrics ({metrics.mask_voxels} mask voxels)")
        for key, value in metrics.as_dict().items():
            label, unit = _METRIC_LABEL[key]
            print(f"  {label:<8}{_format(key, value)} {unit}".rstrip())
    return 0


def _read_case(ct: Path, sct: Path, mask: Path) -> tuple:
    """The three images of a case; the CT and the sCT must hold HU (an MR given as either is refused)."""
    images = read_image(ct), read_image(sct), read_image(mask)
    check_looks_like_ct(images[0], f"--ct {ct.name}", "Give the real CT of the case.")
    check_looks_like_ct(images[1], f"--sct {sct.name}", "Give the synthetic CT (HU), not its MR input.")
    return images


# --------------------------------------------------------------------------------------------
# Cohort mode


def find_cases(cohort: Path, sct_dir: Path | None = None) -> list[CaseFiles]:
    """The cases of a SynthRAD-layout folder: every sub-folder holding a ``ct.<ext>`` file, sorted.

    ``sct`` and ``mask`` are ``None`` when missing (reported per case, not fatal here).
    """
    if not cohort.is_dir():
        raise InputError(f"Cohort folder not found: {cohort}. Give a folder with one sub-folder per case.")
    if sct_dir is not None and not sct_dir.is_dir():
        raise InputError(f"--sct-dir folder not found: {sct_dir}.")
    cases = []
    for folder in sorted(p for p in cohort.iterdir() if p.is_dir()):
        ct = _find_image(folder, CT_STEM)
        if ct is None:
            continue
        sct = _find_image(sct_dir, folder.name) if sct_dir is not None else _find_image(folder, SCT_STEM)
        cases.append(CaseFiles(case=folder.name, ct=ct, sct=sct, mask=_find_image(folder, MASK_STEM)))
    if not cases:
        raise InputError(
            f"No case found in {cohort}: expected sub-folders holding ct.nii.gz, ct.mha or another "
            f"'ct' image ({', '.join(IMAGE_SUFFIXES)})."
        )
    return cases


def evaluate_case(files: CaseFiles, edition: str) -> CaseResult:
    """Score one case; a missing or unusable file gives a result with ``error`` set instead of raising."""
    missing = [name for name, path in (("sct", files.sct), ("mask", files.mask)) if path is None]
    if missing:
        return CaseResult(files.case, None, f"missing {' and '.join(missing)} image")
    try:
        metrics = evaluate_sct(*_read_case(files.ct, files.sct, files.mask), edition)
    except MedSynthError as exc:
        return CaseResult(files.case, None, str(exc))
    return CaseResult(files.case, metrics)


def _run_cohort(args: argparse.Namespace) -> int:
    from medsynth.cli.progress import progress_bar

    cases = find_cases(args.cohort, args.sct_dir)
    results = []
    with progress_bar(f"Evaluating {len(cases)} cases") as progress:
        for i, files in enumerate(cases):
            results.append(evaluate_case(files, args.edition))
            progress((i + 1) / len(cases))
    keys = ["mae", "psnr", _METRIC_KEY[args.edition]]
    summary = {key: _mean_sd([r.metrics.as_dict()[key] for r in results if r.metrics is not None]) for key in keys}
    failed = [r for r in results if r.error is not None]

    table = _csv_text(results, keys)
    if args.out is not None:
        write_text_atomic(args.out, table)
    if args.json:
        print(json.dumps(_json_safe({
            "edition": args.edition,
            "cases": [
                {"case": r.case, **(r.metrics.as_dict() if r.metrics else dict.fromkeys(keys)),
                 "mask_voxels": r.metrics.mask_voxels if r.metrics else None, "error": r.error}
                for r in results
            ],
            "summary": {key: {"mean": m, "sd": s, "n": n} for key, (m, s, n) in summary.items()},
        }), indent=2))
    else:
        if args.out is None:
            print(table, end="")
        else:
            print(f"Per-case metrics written to {args.out}")
        scored = len(results) - len(failed)
        print(f"SynthRAD{args.edition} image metrics, {scored} of {len(results)} cases scored (mean \u00b1 sd):")
        for key, (mean, sd, _) in summary.items():
            label, unit = _METRIC_LABEL[key]
            print(f"  {label:<8}{_format(key, mean)} \u00b1 {_format(key, sd)} {unit}".rstrip())
    for r in failed:
        print(f"medsynth: case {r.case} not scored: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def _find_image(folder: Path, stem: str) -> Path | None:
    matches = [folder / f"{stem}{suffix}" for suffix in IMAGE_SUFFIXES if (folder / f"{stem}{suffix}").is_file()]
    if len(matches) > 1:
        raise InputError(
            f"{folder} holds several '{stem}' images ({', '.join(p.name for p in matches)}); keep exactly one."
        )
    return matches[0] if matches else None


def _csv_text(results: list[CaseResult], keys: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["case", *keys, "mask_voxels", "error"])
    for r in results:
        if r.metrics is not None:
            values = r.metrics.as_dict()
            writer.writerow([r.case, *(repr(values[k]) for k in keys), r.metrics.mask_voxels, ""])
        else:
            writer.writerow([r.case, *([""] * len(keys)), "", r.error])
    return buffer.getvalue()


def _mean_sd(values: list[float]) -> tuple[float, float, int]:
    """Mean and sample standard deviation (n - 1); nan where undefined (no case, or one for sd)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, 0
    mean = math.fsum(values) / n
    if n == 1 or math.isinf(mean):
        return mean, math.nan, n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, sd, n


def _format(key: str, value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf"
    return f"{value:.4f}" if key in ("ssim", "ms_ssim") else f"{value:.2f}"


def _json_safe(value):
    """Replace inf/nan (not valid JSON) by null, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value

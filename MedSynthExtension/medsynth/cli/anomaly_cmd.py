"""``medsynth anomaly-map`` (heat map, findings, artefact verdict) and ``medsynth anomaly-benchmark``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from medsynth.errors import InputError
from medsynth.io import read_image, write_image
from medsynth.io.guard import IMAGE_OUTPUT, declare

_MAP_DESCRIPTION = """\
Anomaly heat map of a brain T1 MRI, inside the brain: with the built-in segmenter, the probability
(0-1) that the tissue is not healthy brain; with a reconstruction model, the residual between the
scan and its healthy reconstruction in healthy-population standard deviations. The model card gives
the validated threshold and the score's units.

Writes HEATMAP on the input's grid; with --findings, the connected regions above the threshold
(volume in mL, peak and mean score, centroid and bounding box in RAS mm) as JSON or CSV. Prints
the scan-level artefact verdict (motion / ghosting / spike / none). The input is never modified.

  medsynth anomaly-map T1.nii.gz heat.nii.gz --findings findings.json
  medsynth anomaly-map T1.nii.gz heat.nii.gz --threshold 4 --png overlay.png
"""

_BENCHMARK_DESCRIPTION = """\
Build a labelled anomaly benchmark from held-out healthy T1 scans: real lesion shapes (MNI-space
masks) implanted after registration, hypo- and hyper-intense, and k-space motion, ghosting and
spikes at three severities. Each scan needs a brain label map (> 0 = brain) found in
--brain-labels by file-name prefix. Without --validation/--test, the project's held-out IXI split
of the shared data corpus is used (validation IXI014; test IXI049, IXI051).

  medsynth anomaly-benchmark bench/
  medsynth anomaly-benchmark bench/ --validation a.nii.gz --test b.nii.gz c.nii.gz \\
      --brain-labels labels/ --lesions lesions_mni/ --template avg152T1.nii.gz
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("anomaly-map", help="anomaly heat map, findings and artefact verdict of a brain T1",
                                   description=_MAP_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", type=Path, help="T1-weighted brain or head MRI (image file or DICOM folder)")
    parser.add_argument("heatmap", type=Path, help="output heat map (.nii.gz, .nrrd, .mha)")
    parser.add_argument("--findings", type=Path, metavar="OUT", help="write findings to OUT (.json or .csv)")
    parser.add_argument("--threshold", type=float, help="finding threshold in score units (default: the card's)")
    parser.add_argument("--model", help="anomaly model id (default: the first installed anomaly model)")
    parser.add_argument("--method", choices=("model", "baseline"), default="model",
                        help="'baseline': voxel z-score against the healthy training set, for comparison")
    parser.add_argument("--brain-mask", type=Path, help="brain mask of the input (> 0 = brain) instead of the prior's")
    parser.add_argument("--brain-extracted", choices=("auto", "yes", "no"), default="auto",
                        help="is the input already skull-stripped? (default: detected from its foreground size)")
    parser.add_argument("--reconstruction", type=Path, help="also write the healthy reconstruction here")
    parser.add_argument("--brain-mask-out", type=Path, help="also write the scored brain mask here")
    parser.add_argument("--png", type=Path, help="also write an overlay picture (axial, coronal, sagittal)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--outside-domain", action="store_true",
                        help="run even when the input is outside the model's validated domain (contrast, skull, "
                             "spacing); every output is then stamped 'outside the validated domain'")
    parser.set_defaults(func=run_anomaly_map)
    declare(parser, inputs=("input", "brain_mask"), outputs={"heatmap": IMAGE_OUTPUT, "findings": (".json", ".csv"),
            "reconstruction": IMAGE_OUTPUT, "brain_mask_out": IMAGE_OUTPUT, "png": (".png",)})

    bench = subparsers.add_parser("anomaly-benchmark", help="build a labelled anomaly / artefact benchmark",
                                  description=_BENCHMARK_DESCRIPTION,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.add_argument("out", type=Path, help="benchmark folder to write")
    bench.add_argument("--validation", type=Path, nargs="+", default=[], metavar="T1", help="validation scans")
    bench.add_argument("--test", type=Path, nargs="+", default=[], metavar="T1", help="test scans")
    bench.add_argument("--brain-labels", type=Path, help="folder of brain label maps (name starts with the scan's)")
    bench.add_argument("--lesions", type=Path, help="folder of MNI lesion masks with index.tsv")
    bench.add_argument("--template", type=Path, help="MNI T1 template the lesion masks are aligned with")
    bench.add_argument("--lesions-per-scan", type=int, default=4, help="lesion shapes per scan (each hypo + hyper)")
    bench.add_argument("--seed", type=int, default=0)
    bench.set_defaults(func=run_anomaly_benchmark)


def run_anomaly_map(args: argparse.Namespace) -> int:
    from medsynth.cli.progress import progress_bar, warn_outside
    from medsynth.models import ModelRegistry
    from medsynth.runtime import OnnxGenerator
    from medsynth.tasks.anomaly.task import anomaly_map
    from medsynth.tasks.anomaly.findings import findings_csv, write_findings

    _check_outputs(args)
    image = read_image(args.input)
    brain_mask = read_image(args.brain_mask) if args.brain_mask else None
    entry = ModelRegistry.default().find(args.model, task="anomaly")
    if args.reconstruction is not None and entry.card.outputs[0].name != "reconstruction":
        raise InputError(f"The model {entry.card.id} segments anomalies and makes no healthy reconstruction; "
                         "drop --reconstruction.")
    extracted = {"auto": None, "yes": True, "no": False}[args.brain_extracted]
    with progress_bar(f"Anomaly map ({entry.card.id})") as progress:
        result = anomaly_map(image, OnnxGenerator(entry), args.method, brain_mask=brain_mask, brain_extracted=extracted,
                             threshold=args.threshold, progress=progress, input_description=str(args.input),
                             allow_outside=args.outside_domain)
    warn_outside(result.provenance)
    write_image(result.score, args.heatmap, provenance=result.provenance)
    if args.findings:
        write_findings(result.findings, args.findings, result.summary())
    if args.reconstruction and result.reconstruction is not None:
        write_image(result.reconstruction, args.reconstruction, provenance=result.provenance)
    if args.brain_mask_out:
        write_image(result.brain_mask, args.brain_mask_out)
    if args.png:
        from medsynth.tasks.anomaly.pictures import findings_picture

        findings_picture(image, result, args.png)
    if args.json:
        print(json.dumps({**result.summary(), "findings": [f.to_dict() for f in result.findings]}, indent=2))
        return 0
    print(result.artefact.message())
    print(f"{len(result.findings)} finding(s) at score ≥ {result.threshold:g} "
          f"(≥ {result.settings.min_finding_ml:g} mL); heat map written to {args.heatmap}")
    if result.findings:
        print(findings_csv(result.findings), end="")
    return 0


def run_anomaly_benchmark(args: argparse.Namespace) -> int:
    from medsynth.benchmarks.anomaly.build import (HELD_OUT_SPLIT, build_benchmark, held_out_inputs,
                                                   shared_benchmark_sources)
    from medsynth.sample_data import shared_data_dir

    if not args.validation and not args.test:
        data = shared_data_dir()
        if data is None:
            raise InputError("Give --validation and/or --test scans (the shared data corpus for the default split "
                             "was not found).")
        splits = {split: held_out_inputs(data, prefixes) for split, prefixes in HELD_OUT_SPLIT.items()}
        sources = shared_benchmark_sources(data)
    else:
        if args.brain_labels is None:
            raise InputError("Give --brain-labels DIR: each scan needs its brain label map (the evaluation region).")
        splits = {split: _inputs(paths, args.brain_labels) for split, paths in
                  (("validation", args.validation), ("test", args.test)) if paths}
        sources = {}
    lesions = args.lesions or sources.get("lesions")
    template = args.template or sources.get("template")
    if lesions is None or template is None:
        raise InputError("Give --lesions (MNI lesion masks with index.tsv) and --template (the MNI T1 they match).")
    cases = build_benchmark(args.out, splits, lesions, template, args.lesions_per_scan, args.seed)
    print(f"{len(cases)} cases written to {args.out} (manifest.json)")
    return 0


def _inputs(paths, labels_folder: Path):
    from medsynth.benchmarks.anomaly.build import HealthyInput, image_stem, labels_for

    return [HealthyInput(image_stem(path), path, labels_for(path, labels_folder)) for path in paths]


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse to overwrite the input with an output, or a findings file of unknown type, before any work."""
    if args.findings is not None and args.findings.suffix.lower() not in (".json", ".csv"):
        raise InputError(f"Cannot write findings to {args.findings}: use a .json or .csv file name.")
    if args.reconstruction is not None and args.method == "baseline":
        raise InputError("The baseline makes no reconstruction; drop --reconstruction or use --method model.")
    inputs = {Path(args.input).resolve()} | ({Path(args.brain_mask).resolve()} if args.brain_mask else set())
    for option in ("heatmap", "findings", "reconstruction", "brain_mask_out", "png"):
        path = getattr(args, option)
        if path is not None and Path(path).resolve() in inputs:
            raise InputError(f"The output {path} would overwrite an input; choose another file name.")

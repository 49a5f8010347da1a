"""``medsynth train <task> ...``: train a generator and write its ONNX file and model card.

Needs the training extra (torch, MONAI, onnx). This module only builds the argument parser and
calls into :mod:`medsynth.training`, which imports torch when a user trains, so ``medsynth --help``
and every other command work without it.
"""

from __future__ import annotations

import argparse
import shlex
import textwrap
from pathlib import Path

from medsynth.errors import MedSynthError
from medsynth.training import require_training_extra


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model (needs the training extra: torch, MONAI)",
                                   description="Train a generator and write its ONNX file and model card.")
    tasks = parser.add_subparsers(dest="train_task", metavar="TASK", required=True)
    _register_synth_ct(tasks)
    _register_anomaly(tasks)
    _register_synthesis(tasks)


def _register_synth_ct(tasks: argparse._SubParsersAction) -> None:
    parser = tasks.add_parser(
        "synth-ct", help="MR → CT from SynthRAD-layout folders",
        description="Train an MR→CT generator from a folder of cases in the SynthRAD2023 layout (<case>/mr.nii.gz, "
                    "ct.nii.gz, mask.nii.gz) or SynthRAD2025 layout (.mha), then export ONNX, check torch vs "
                    "onnxruntime parity on a real volume and write the model card with the validation MAE. "
                    "Re-running with the same --out resumes from the last checkpoint.")
    parser.add_argument("--data", required=True, type=Path, help="folder holding the cases (searched recursively)")
    parser.add_argument("--out", required=True, type=Path, help="model folder to write (ONNX, card.json, checkpoints/)")
    parser.add_argument("--model-id", default="synthct-custom", help="model id in the card (default %(default)s)")
    parser.add_argument("--version", default="1.0.0", help="model version (default %(default)s)")
    parser.add_argument("--contrast", default="T1-weighted", help="MR contrast of the data, for the card")
    parser.add_argument("--architecture", default="unet2.5d", choices=("unet2.5d", "unet3d"))
    parser.add_argument("--patch", default="15,128,128", help="patch size z,y,x in voxels (default %(default)s)")
    parser.add_argument("--channels", default="16,32,64,128", help="UNet channels per level (default %(default)s)")
    parser.add_argument("--spacing", default="2,2,2", help="model grid spacing x,y,z in mm (default %(default)s)")
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--validate-every", type=int, default=1000)
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default %(default)s)")
    parser.add_argument("--no-resume", action="store_true", help="start afresh even if a checkpoint exists")
    parser.set_defaults(func=run_synth_ct)


_ANOMALY_DESCRIPTION = """\
Train a healthy-brain reconstruction model for anomaly maps from a folder of healthy T1 scans
(whole head, not skull-stripped): BIDS (sub-*/[ses-*/]anat/*_T1w.nii.gz) or a flat folder of
images. Every scan is registered to an MNI T1 template; a brain label map (> 0 = brain, e.g. a
DLMUSE parcellation) in --labels whose file name starts with the scan's name gives the brain
prior. Then a 3D UNet denoising autoencoder is trained, the healthy population statistics are
computed, and MODEL_DIR gets model.onnx (torch vs onnxruntime parity checked) and card.json.

Validation: a seeded --validation-fraction of the scans (at least 1; of a BIDS folder, whole
subjects), or the scans named with --validation, is held out. There is no lesion benchmark for
your folder, so the thresholds are set on these healthy scans:
{rule}

Use the model with its id, from a models path that holds MODEL_DIR's parent folder:

  medsynth train anomaly --data healthy/ --labels labels/ --out models/anomaly-site-a --model-id anomaly-site-a
  MEDSYNTH_MODELS_PATH=models medsynth anomaly-map T1.nii.gz heat.nii.gz --model anomaly-site-a
"""


def _register_anomaly(tasks: argparse._SubParsersAction) -> None:
    # The help quotes the rule the trainer applies (one text); that module imports no torch.
    from medsynth.training.anomaly.pipeline import THRESHOLD_RULE

    parser = tasks.add_parser("anomaly", help="healthy-brain T1 reconstruction (anomaly maps) from healthy scans",
                              description=_ANOMALY_DESCRIPTION.format(rule=textwrap.fill(THRESHOLD_RULE, 96)),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, metavar="FOLDER", help="folder of healthy T1 scans")
    parser.add_argument("--out", required=True, type=Path, metavar="MODEL_DIR",
                        help="model folder to write (model.onnx, card.json)")
    parser.add_argument("--labels", type=Path, metavar="LABELS_DIR",
                        help="brain label maps, matched to the scans by file-name prefix (needed for the brain prior)")
    parser.add_argument("--template", type=Path, metavar="MNI_T1",
                        help="MNI-space T1 template for the first registration (default: SPM's avg152T1 of the "
                             "shared data corpus, if present)")
    parser.add_argument("--model-id", default="anomaly-custom", help="model id in the card (default %(default)s)")
    parser.add_argument("--version", default="1.0.0", help="model version (default %(default)s)")
    parser.add_argument("--iterations", type=int, default=700, help="length of the learning-rate schedule "
                                                                    "(default %(default)s)")
    parser.add_argument("--stop-after", type=int, metavar="N",
                        help="stop after N iterations of the schedule (default: run it all)")
    parser.add_argument("--channels", default="16,32,64,128",
                        help="UNet channels per level, 2 to 4 levels (default %(default)s)")
    parser.add_argument("--patch", default="64,64,64", help="training patch size z,y,x in voxels, each a multiple of "
                                                            "2^(levels-1) (default %(default)s)")
    held_out = parser.add_mutually_exclusive_group()
    held_out.add_argument("--validation-fraction", type=float, default=0.2, metavar="F",
                          help="fraction of the scans (BIDS: of the subjects) held out for validation, at least 1 "
                               "(default %(default)s)")
    held_out.add_argument("--validation", nargs="+", default=[], metavar="NAME",
                          help="hold out these scans instead (file names, or the start of names, e.g. sub-07)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and of training (default %(default)s)")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch and onnxruntime CPU threads (default %(default)s)")
    parser.add_argument("--work", type=Path, metavar="DIR",
                        help="keep the aligned training scans here and reuse them when run again (default: not kept)")
    parser.set_defaults(func=run_anomaly)


def _numbers(text: str, kind: type, count: int, option: str) -> tuple:
    try:
        values = tuple(kind(part) for part in text.split(","))
    except ValueError:
        raise MedSynthError(f"{option} must be {count} comma-separated numbers, got {text!r}.") from None
    if len(values) != count:
        raise MedSynthError(f"{option} must be {count} comma-separated numbers, got {text!r}.")
    return values


def _command_line(args: argparse.Namespace) -> str:
    """The equivalent command line (for the card), rebuilt from the parsed options."""
    options = ["--data", str(args.data), "--out", str(args.out), "--model-id", args.model_id, "--version", args.version,
               "--contrast", args.contrast, "--architecture", args.architecture, "--patch", args.patch,
               "--channels", args.channels, "--spacing", args.spacing, "--iterations", str(args.iterations),
               "--batch-size", str(args.batch_size), "--learning-rate", str(args.learning_rate),
               "--validation-fraction", str(args.validation_fraction), "--seed", str(args.seed)]
    return "medsynth train synth-ct " + " ".join(shlex.quote(option) for option in options)


def run_synth_ct(args: argparse.Namespace) -> int:
    require_training_extra()
    from dataclasses import replace

    from medsynth.training.synthct.model import ModelConfig, channels_from_text
    from medsynth.training.synthct.spec import SynthCTSpec
    from medsynth.training.synthct.synthrad import FolderTrainingOptions, train_from_folder
    from medsynth.training.synthct.train import TrainConfig

    patch = _numbers(args.patch, int, 3, "--patch")
    model = ModelConfig(architecture=args.architecture, patch_size=patch, channels=tuple(channels_from_text(args.channels)))
    try:
        model.check()
    except ValueError as exc:
        raise MedSynthError(f"Invalid network options: {exc}.") from None
    spec = SynthCTSpec(spacing_mm=_numbers(args.spacing, float, 3, "--spacing"), patch_size=patch,
                       overlap=0.875 if args.architecture == "unet2.5d" else 0.5)
    config = replace(TrainConfig(), iterations=args.iterations, batch_size=args.batch_size,
                     learning_rate=args.learning_rate, validate_every=args.validate_every,
                     checkpoint_every=args.checkpoint_every, seed=args.seed, threads=args.threads)
    options = FolderTrainingOptions(
        data=args.data, out=args.out, model_id=args.model_id, version=args.version, contrast=args.contrast,
        validation_fraction=args.validation_fraction, resume=not args.no_resume, spec=spec, model=model, train=config,
        command=_command_line(args))
    card = train_from_folder(options)
    print(f"wrote {args.out / card.weights_file} and card.json (model {card.id} {card.version})")
    return 0


def _anomaly_command_line(args: argparse.Namespace) -> str:
    """The equivalent command line (for the card), rebuilt from the parsed options."""
    options = ["--data", str(args.data), "--out", str(args.out)]
    for option, value in (("--labels", args.labels), ("--template", args.template),
                          ("--stop-after", args.stop_after), ("--work", args.work)):
        if value is not None:
            options += [option, str(value)]
    options += ["--model-id", args.model_id, "--version", args.version, "--iterations", str(args.iterations),
                "--channels", args.channels, "--patch", args.patch]
    if args.validation:
        options += ["--validation", *args.validation]
    else:
        options += ["--validation-fraction", str(args.validation_fraction)]
    options += ["--seed", str(args.seed), "--threads", str(args.threads)]
    return "medsynth train anomaly " + " ".join(shlex.quote(option) for option in options)


def run_anomaly(args: argparse.Namespace) -> int:
    channels = _numbers(args.channels, int, len(args.channels.split(",")), "--channels")
    if not 2 <= len(channels) <= 4 or min(channels) < 1:
        raise MedSynthError(f"--channels must be 2 to 4 positive numbers (the padded MNI grid allows 3 halvings), "
                            f"got {args.channels!r}.")
    patch = _numbers(args.patch, int, 3, "--patch")
    step = 2 ** (len(channels) - 1)
    if min(patch) < step or any(size % step for size in patch):
        raise MedSynthError(f"--patch sizes must be multiples of {step} (with {len(channels)} levels), "
                            f"got {args.patch!r}.")
    for option, value in (("--iterations", args.iterations), ("--threads", args.threads)):
        if value < 1:
            raise MedSynthError(f"{option} must be at least 1, got {value}.")
    if args.stop_after is not None and args.stop_after < 1:
        raise MedSynthError(f"--stop-after must be at least 1, got {args.stop_after}.")
    require_training_extra()
    from medsynth.training.anomaly.pipeline import FolderTrainingOptions, train_from_folder
    from medsynth.training.anomaly.spec import TrainingConfig

    config = TrainingConfig(channels=channels, patch_size=patch, iterations=args.iterations, stop_after=args.stop_after,
                            seed=args.seed, threads=args.threads)
    options = FolderTrainingOptions(
        data=args.data, out=args.out, labels=args.labels, template=args.template, model_id=args.model_id,
        version=args.version, validation_fraction=args.validation_fraction, validation=tuple(args.validation),
        work=args.work, config=config, command=_anomaly_command_line(args))
    card = train_from_folder(options)
    print(f"wrote {args.out / card.weights_file} and card.json (model {card.id} {card.version}); use it with "
          f"MEDSYNTH_MODELS_PATH={args.out.resolve().parent} medsynth anomaly-map T1.nii.gz heat.nii.gz "
          f"--model {card.id}")
    return 0


def _register_synthesis(tasks: argparse._SubParsersAction) -> None:
    parser = tasks.add_parser(
        "synthesis", help="lesion-appearance generator for 'medsynth synthesize' from real lesion scans",
        description="Train the conditional lesion-appearance generator of targeted synthesis on real lesion scans "
                    "(skull-stripped T1 + FLAIR; lesions outlined by fixed hand thresholds), export it to ONNX and "
                    "write its card with the realism AUC against the procedural baseline on held-out patches.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="the shared data corpus (uses brats_glioma, aurora_metastasis, stroke)")
    source.add_argument("--scans", type=Path, metavar="CSV",
                        help="CSV of lesion scans: name, t1, flair, lesion_type (tumour|stroke); paths relative to it")
    parser.add_argument("--out", required=True, type=Path, help="model folder to write (model.onnx, card.json)")
    parser.add_argument("--model-id", default="synthesis-lesion-t1", help="model id in the card (default %(default)s)")
    parser.add_argument("--version", default="1.0.0", help="model version (default %(default)s)")
    parser.add_argument("--iterations", type=int, default=800, help="training steps (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default %(default)s)")
    parser.set_defaults(func=run_synthesis)


def run_synthesis(args: argparse.Namespace) -> int:
    if args.iterations < 1 or args.threads < 1:
        raise MedSynthError("--iterations and --threads must be at least 1.")
    require_training_extra()
    from medsynth.training.synthesis.pipeline import SynthesisTraining, read_scan_list, train_synthesis_model
    from medsynth.training.synthesis.real_lesions import shared_lesion_scans
    from medsynth.training.synthesis.train import TrainConfig

    scans = read_scan_list(args.scans) if args.scans else shared_lesion_scans(args.data)
    source = ["--scans", str(args.scans)] if args.scans else ["--data", str(args.data)]
    options = [*source, "--out", str(args.out), "--model-id", args.model_id, "--version", args.version,
               "--iterations", str(args.iterations), "--seed", str(args.seed), "--threads", str(args.threads)]
    description = ", ".join(f"{scan.name} ({scan.lesion_type}: {scan.t1.name} + {scan.flair.name})" for scan in scans)
    job = SynthesisTraining(tuple(scans), args.out, args.model_id, args.version,
                            TrainConfig(iterations=args.iterations, seed=args.seed, threads=args.threads),
                            "medsynth train synthesis " + " ".join(shlex.quote(o) for o in options),
                            f"Real lesion scans: {description}.")
    card = train_synthesis_model(job)
    print(f"wrote {args.out / card.weights_file} and card.json (model {card.id} {card.version})")
    return 0

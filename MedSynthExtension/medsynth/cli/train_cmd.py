"""``medsynth train <task> ...``: train a generator and write its ONNX file and model card.

Needs the training extra (torch, MONAI, onnx). This module only builds the argument parser;
torch is imported inside the command function, so ``medsynth --help`` and every other command
work without it.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from medsynth.errors import MedSynthError


class TrainingExtraMissing(MedSynthError):
    """torch / MONAI are not installed."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model (needs the training extra: torch, MONAI)",
                                   description="Train a generator and write its ONNX file and model card.")
    tasks = parser.add_subparsers(dest="train_task", metavar="TASK", required=True)
    _register_synth_ct(tasks)


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
    from medsynth.training import prefer_passive_openmp

    prefer_passive_openmp()
    try:
        import torch  # noqa: F401  (fail early, with a clear message)
        import monai  # noqa: F401
    except ImportError as exc:
        raise TrainingExtraMissing(f"Training needs the training extra ({exc.name} is missing): "
                                   "pip install 'medsynth[training]'.") from None
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

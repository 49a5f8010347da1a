"""The ``medsynth`` command line.

Each subcommand lives in its own module under ``medsynth.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable taking the parsed
arguments and returning an exit code). ``main`` only wires them together and turns
:class:`MedSynthError` into a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from typing import Sequence

from medsynth import __version__
from medsynth.errors import MedSynthError

#: (module, {command: one-line help}), in the order ``medsynth --help`` lists them. The help lines are
#: repeated here so that ``medsynth --help`` (and parsing one command) imports no other command module
#: and none of numpy, SimpleITK, scipy or onnxruntime; a test keeps them equal to the modules' own.
SUBCOMMANDS: tuple[tuple[str, dict[str, str]], ...] = (
    ("medsynth.cli.models_cmd", {"models": "list, inspect and import models"}),
    ("medsynth.cli.info_cmd", {"info": "show an image's geometry, intensities and domain report"}),
    ("medsynth.cli.synthct_cmd", {"synth-ct": "synthetic CT (Hounsfield units) from a head MRI"}),
    ("medsynth.cli.evaluate_cmd", {"evaluate": "score synthetic images against real ones (SynthRAD metrics, ...)"}),
    ("medsynth.cli.export_dicom_cmd",
     {"export-dicom": "write a synthetic CT as a DICOM CT series (marked synthetic) for planning systems"}),
    ("medsynth.cli.reading_cmd", {"reading": "blinded reader studies of real vs synthetic images"}),
    ("medsynth.cli.anomaly_cmd", {"anomaly-map": "anomaly heat map, findings and artefact verdict of a brain T1",
                                  "anomaly-benchmark": "build a labelled anomaly / artefact benchmark"}),
    ("medsynth.cli.batch_cmd", {"batch": "run a task over every case of a folder (resumable, Dask)"}),
    ("medsynth.cli.future_cmd", {"predict-future": "predicted future brain T1 with change map and volumes"}),
    ("medsynth.cli.train_cmd", {"train": "train a model (needs the training extra: torch, MONAI)"}),
    ("medsynth.cli.synthesize_cmd", {"synthesize": "make labelled synthetic cases of a chosen patient group"}),
)
SUBCOMMAND_MODULES = tuple(module for module, _ in SUBCOMMANDS)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command``, only that command's module is imported and the others are
    placeholders that carry their help line (what ``medsynth --help`` shows)."""
    parser = argparse.ArgumentParser(
        prog="medsynth",
        description="Generative models for the reading room: synthetic CT, future MRI, anomaly maps, reader studies.",
    )
    parser.add_argument("--version", action="version", version=f"medsynth {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name, commands in SUBCOMMANDS:
        if command is None or command in commands:
            importlib.import_module(module_name).register(subparsers)
        else:
            for name, help_line in commands.items():
                subparsers.add_parser(name, help=help_line, add_help=False)
    return parser


def _command_in(argv: Sequence[str]) -> str:
    """The command named on the line ("" when none is: only placeholders are then needed)."""
    known = {name for _, commands in SUBCOMMANDS for name in commands}
    first = next((arg for arg in argv if not arg.startswith("-")), "")
    return first if first in known else ""


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_in(argv)).parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate_like_interrupt)
    try:
        from medsynth.io.guard import check_paths  # after parsing: `medsynth --help` stays light

        check_paths(args)
        return int(args.func(args) or 0)
    except MedSynthError as exc:
        print(f"medsynth: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("medsynth: interrupted; no partial output was written.", file=sys.stderr)
        return 130


def _terminate_like_interrupt(signum, frame) -> None:
    """SIGTERM (a job scheduler, ``kill``) unwinds like Ctrl-C, so atomic writes remove their temporary file."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())

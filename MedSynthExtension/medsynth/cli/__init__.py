"""The ``medsynth`` command line.

Each subcommand lives in its own module under ``medsynth.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable taking the parsed
arguments and returning an exit code). ``main`` only wires them together and turns
:class:`MedSynthError` into a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from medsynth import __version__
from medsynth.errors import MedSynthError

#: Subcommand modules, in the order ``medsynth --help`` lists them.
SUBCOMMAND_MODULES = (
    "medsynth.cli.models_cmd",
    "medsynth.cli.info_cmd",
    "medsynth.cli.synthct_cmd",
    "medsynth.cli.evaluate_cmd",
    "medsynth.cli.export_dicom_cmd",
    "medsynth.cli.reading_cmd",
    "medsynth.cli.anomaly_cmd",
    "medsynth.cli.batch_cmd",
    "medsynth.cli.future_cmd",
    "medsynth.cli.train_cmd",
    "medsynth.cli.synthesize_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medsynth",
        description="Generative models for the reading room: synthetic CT, future MRI, anomaly maps, reader studies.",
    )
    parser.add_argument("--version", action="version", version=f"medsynth {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MedSynthError as exc:
        print(f"medsynth: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("medsynth: interrupted; no partial output was written.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

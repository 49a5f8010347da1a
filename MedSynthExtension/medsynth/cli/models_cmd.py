"""``medsynth models list|show|import``: what is installed, what a model is for, adding one."""

from __future__ import annotations

import argparse
import json

from medsynth.models import ModelRegistry
from medsynth.io.guard import declare


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list, inspect and import models",
                                   description="List installed models, show a model's card, import a model zip.")
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list installed models", description="List installed models.")
    listing.add_argument("--task", help="only models of this task (synth-ct, future-mri, anomaly, demo)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_list)

    show = actions.add_parser("show", help="show a model's card", description="Show a model's card and check its weights.")
    show.add_argument("model_id")
    show.add_argument("--json", action="store_true", help="print the card as JSON")
    show.set_defaults(func=_show)

    importing = actions.add_parser("import", help="install a model from a zip",
                                   description="Install a model zip (card.json + .onnx) into the user model folder.")
    importing.add_argument("zip_path")
    importing.add_argument("--replace", action="store_true", help="replace an installed model with the same id")
    importing.set_defaults(func=_import)
    declare(importing, inputs=("zip_path",))


def _list(args: argparse.Namespace) -> int:
    registry = ModelRegistry.default()
    entries = registry.entries(args.task)
    if args.json:
        print(json.dumps([{"id": e.card.id, "version": e.card.version, "task": e.card.task, "name": e.card.name,
                           "source": e.source, "folder": str(e.folder), "shadows": list(e.shadows)}
                          for e in entries], indent=2))
    else:
        for entry in entries:
            print(f"{entry.card.id:<24} {entry.card.version:<8} {entry.card.task:<11} {entry.source:<9} {entry.card.name}")
            for hidden in entry.shadows:
                print(f"  {'':<22} wins over {hidden}: {entry.source} models come first "
                      "($MEDSYNTH_MODELS_PATH, then the user folder, then built-in)")
        if not entries:
            print("No models installed" + (f" for task {args.task}" if args.task else "") + ".")
    for problem in registry.problems:
        print(f"warning: skipped a model: {problem}")
    return 0


def _show(args: argparse.Namespace) -> int:
    entry = ModelRegistry.default().find(args.model_id)
    entry.verify()
    if args.json:
        print(json.dumps(dict(entry.card.raw), indent=2))
        return 0
    print(entry.card.summary())
    print(f"Folder: {entry.folder} ({entry.source})")
    print(f"Weights: {entry.card.weights_file}, sha256 verified")
    metrics = entry.card.raw.get("validation", {}).get("metrics", {})
    for name, value in metrics.items():
        print(f"  {name}: {value}")
    return 0


def _import(args: argparse.Namespace) -> int:
    entry = ModelRegistry.default().import_zip(args.zip_path, replace=args.replace)
    print(f"Installed {entry.card.id} {entry.card.version} into {entry.folder}")
    if entry.ignored_members:
        print(f"warning: left out {len(entry.ignored_members)} zip member(s) that are not the card or its weights: "
              + ", ".join(entry.ignored_members))
    return 0

"""`medsynth --help` and parsing one command stay light: no other command module, no numpy/SimpleITK/
scipy/onnxruntime import (they cost seconds), and the help lines the top level shows are the commands' own."""

import subprocess
import sys

import pytest

from medsynth import cli

HEAVY = ("numpy", "SimpleITK", "scipy", "onnxruntime", "pydicom", "torch")


def _modules_after(argv: list[str]) -> set[str]:
    code = ("import sys\nfrom medsynth.cli import main\ntry:\n    main(" + repr(argv) + ")\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split("\n")[-2].split())


def test_top_level_help_imports_nothing_heavy():
    loaded = _modules_after(["--help"])
    assert not [m for m in HEAVY if m in loaded]
    assert not [m for m in loaded if m.startswith("medsynth.cli.") and m.endswith("_cmd")]


def test_one_command_imports_only_its_own_module():
    loaded = _modules_after(["reading", "--help"])
    commands = {m for m in loaded if m.startswith("medsynth.cli.") and m.endswith("_cmd")}
    assert commands == {"medsynth.cli.reading_cmd"}


def test_top_level_help_lists_every_command_with_its_own_help_line():
    full = cli.build_parser()
    actions = full._subparsers._group_actions[0]._choices_actions  # argparse keeps each command's help here
    own = {action.dest: action.help for action in actions}
    table = {name: help_line for _, commands in cli.SUBCOMMANDS for name, help_line in commands.items()}
    assert own == table


@pytest.mark.parametrize("argv", [["synth-ct", "--help"], ["evaluate", "sct", "--help"], ["train", "--help"]])
def test_a_named_command_gets_its_full_parser(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: medsynth {' '.join(argv[:-1])}")

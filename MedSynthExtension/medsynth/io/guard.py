"""One place that owns "paths and inputs": every command declares which arguments are inputs and outputs.

``main`` calls :func:`check_paths` on the parsed arguments *before* any image is read or any
model runs, so a bad output location is refused in a second, not after minutes of inference, and
an output can never replace an input (compared by real path and by inode, so ``./out/../t1.nii.gz``
and hard links are caught) or another output of the same command.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from medsynth.errors import InputError

#: Endings of volume outputs (lower case).
IMAGE_OUTPUT = (".nii.gz", ".nii", ".nrrd", ".mha")
_SYSTEM_ROOTS = ("/proc", "/sys", "/dev")


@dataclass(frozen=True)
class PathRoles:
    """Which argument names of a command are inputs, output files (with allowed endings) and output folders."""

    inputs: tuple[str, ...] = ()
    outputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    out_dirs: tuple[str, ...] = ()
    #: How the user wrote each argument (``--mask``, ``OUTPUT``), for messages.
    labels: Mapping[str, str] = field(default_factory=dict)


def declare(parser: argparse.ArgumentParser, inputs: Sequence[str] = (),
            outputs: Mapping[str, tuple[str, ...]] | None = None, out_dirs: Sequence[str] = ()) -> None:
    """Record the path roles of ``parser``'s arguments; ``main`` checks them before the command runs."""
    labels = {action.dest: action.option_strings[0] if action.option_strings else (action.metavar or action.dest.upper())
              for action in parser._actions}
    parser.set_defaults(_path_roles=PathRoles(tuple(inputs), dict(outputs or {}), tuple(out_dirs), labels))


def check_paths(args: argparse.Namespace) -> None:
    """Refuse, with :class:`InputError`, any declared output that cannot or must not be written."""
    roles: PathRoles | None = getattr(args, "_path_roles", None)
    if roles is None:
        return
    check_call_paths(inputs={roles.labels[name]: _value(args, name) for name in roles.inputs},
                     outputs={roles.labels[name]: (_value(args, name), suffixes) for name, suffixes in roles.outputs.items()},
                     out_dirs={roles.labels[name]: _value(args, name) for name in roles.out_dirs})


def check_call_paths(inputs: Mapping[str, str | os.PathLike | None] | None = None,
                     outputs: Mapping[str, tuple[str | os.PathLike | None, tuple[str, ...]]] | None = None,
                     out_dirs: Mapping[str, str | os.PathLike | None] | None = None) -> None:
    """The checks of :func:`check_paths` for callers without a command line (the Slicer logic, batch):
    each mapping is keyed by how the caller names the argument (``outputFolder``); ``None`` or empty
    values are skipped; ``outputs`` give each file's allowed endings."""
    given = [(name, Path(value)) for name, value in (inputs or {}).items() if value is not None and str(value) != ""]
    for name, path in given:
        if not path.exists() and not path.is_symlink():
            raise InputError(f"Input not found: {path} ({name}). Check the path and try again.")
    seen: list[tuple[str, Path]] = []
    for name, (value, suffixes) in (outputs or {}).items():
        if value is not None and str(value) != "":
            path = Path(value)
            _check_output_file(name, path, suffixes)
            _check_distinct(name, path, given, seen)
            seen.append((name, path))
    for name, value in (out_dirs or {}).items():
        if value is not None and str(value) != "":
            path = Path(value)
            _check_output_dir(name, path, given)
            _check_distinct(name, path, given, seen)
            seen.append((name, path))


def check_output_folder(output_dir: str | os.PathLike, input_dir: str | os.PathLike) -> None:
    """For library callers (batch, the Slicer logic): refuse an output folder that is, holds or lies in the input folder."""
    _check_output_dir("output folder", Path(output_dir), [("input folder", Path(input_dir))])


def check_output_file(output: str | os.PathLike, inputs: Sequence[str | os.PathLike],
                      suffixes: tuple[str, ...] = IMAGE_OUTPUT) -> None:
    """For library callers: refuse writing ``output`` over any of ``inputs`` or where it cannot be written."""
    path = Path(output)
    _check_output_file("output", path, suffixes)
    _check_distinct("output", path, [("input", Path(p)) for p in inputs], [])


def _value(args: argparse.Namespace, name: str) -> str | None:
    value = getattr(args, name, None)
    return None if value is None or str(value) == "" else str(value)


def _check_output_file(name: str, path: Path, suffixes: tuple[str, ...]) -> None:
    if suffixes and not path.name.lower().endswith(suffixes):
        raise InputError(f"Cannot write {path} ({name}): the name must end with {' or '.join(suffixes)}.")
    if path.is_dir():
        raise InputError(f"Cannot write {path} ({name}): it is an existing folder; give a file name.")
    _check_location(name, path)


def _check_output_dir(name: str, path: Path, inputs: list[tuple[str, Path]]) -> None:
    if path.exists() and not path.is_dir():
        raise InputError(f"Cannot use {path} ({name}) as an output folder: it is a file.")
    _check_location(name, path)
    real = Path(os.path.realpath(path))
    for in_name, in_path in inputs:
        in_real = Path(os.path.realpath(in_path))
        if in_path.is_dir() and (real == in_real or in_real in real.parents or real in in_real.parents):
            raise InputError(f"Output folder {path} ({name}) is, contains or lies inside the input folder "
                             f"{in_path} ({in_name}); choose a separate folder so the inputs stay untouched.")


def _check_location(name: str, path: Path) -> None:
    """The nearest existing ancestor must be a writable folder outside the kernel's pseudo file systems."""
    real = os.path.realpath(path)
    if any(real == root or real.startswith(root + "/") for root in _SYSTEM_ROOTS):
        raise InputError(f"Cannot write {path} ({name}): {real} is a system location, not a folder for results.")
    ancestor = Path(real).parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"Cannot write {path} ({name}): {ancestor} is a file, not a folder.")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"Cannot write {path} ({name}): folder {ancestor} is not writable for you.")


def _check_distinct(name: str, path: Path, inputs: list[tuple[str, Path]], outputs: list[tuple[str, Path]]) -> None:
    for other_name, other in inputs:
        if _same_file(path, other):
            raise InputError(f"Output {path} ({name}) is the input {other} ({other_name}); "
                             "MedSynth never overwrites an input. Choose another output name.")
    for other_name, other in outputs:
        if _same_file(path, other):
            raise InputError(f"Outputs {other_name} and {name} are the same file ({path}); "
                             "give each output its own name.")


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links: same device and inode
    except OSError:
        return False

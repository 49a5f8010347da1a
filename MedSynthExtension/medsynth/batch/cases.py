"""The cases of a cohort: image files and DICOM series folders under an input folder, and the
per-case parameters table (CSV) that goes with them.

Case ids are what ties an input, its row in the parameters CSV, its outputs and its line in the
results CSV together, so they are derived from names only (never from the order of discovery):
``sub-01.nii.gz`` → ``sub-01``; a DICOM folder ``patient7/MR_T1/`` → ``patient7_MR_T1``.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from medsynth.errors import InputError
from medsynth.io import IMAGE_SUFFIXES

#: Byte offset of the ``DICM`` magic in a DICOM Part 10 file (after the 128-byte preamble).
_DICOM_MAGIC_OFFSET = 128


@dataclass(frozen=True)
class Case:
    """One input volume: ``path`` is an image file or a folder holding one DICOM series."""

    case_id: str
    path: Path

    @property
    def is_dicom_folder(self) -> bool:
        return self.path.is_dir()


def discover_cases(input_dir: str | os.PathLike, exclude: Iterable[str | os.PathLike] = ()) -> list[Case]:
    """Every image file (NIfTI, NRRD, MHA) and every folder directly holding DICOM files under
    ``input_dir`` (recursively), sorted by case id.

    Hidden files and folders and the ``exclude`` folders (e.g. an output folder inside the input
    folder) are skipped. Raises :class:`InputError` when the folder is missing or two inputs
    would get the same case id.
    """
    root = Path(input_dir)
    if not root.is_dir():
        raise InputError(f"Input folder not found: {root}. Give a folder of NIfTI/NRRD/MHA files or DICOM "
                         "series folders.")
    excluded = {Path(p).resolve() for p in exclude}
    found: dict[str, Case] = {}
    for folder, subfolders, files in os.walk(root):
        here = Path(folder)
        subfolders[:] = sorted(name for name in subfolders
                               if not name.startswith(".") and (here / name).resolve() not in excluded)
        visible = sorted(name for name in files if not name.startswith("."))
        candidates = [here / name for name in visible if name.lower().endswith(IMAGE_SUFFIXES)]
        if any(_is_dicom_file(here / name) for name in visible if not name.lower().endswith(IMAGE_SUFFIXES)):
            candidates.append(here)
        for path in candidates:
            _add(found, Case(_case_id(root, path), path))
    return [found[case_id] for case_id in sorted(found)]


def _add(found: dict[str, Case], case: Case) -> None:
    if case.case_id in found:
        raise InputError(f"Two inputs would both be case '{case.case_id}': {found[case.case_id].path} and {case.path}. "
                         "Rename one of them.")
    found[case.case_id] = case


def _case_id(root: Path, path: Path) -> str:
    relative = path.relative_to(root)
    if relative == Path("."):
        return root.resolve().name
    name = relative.as_posix()
    for suffix in IMAGE_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("/", "_")


def _is_dicom_file(path: Path) -> bool:
    if path.suffix.lower() == ".dcm":
        return True
    try:
        with open(path, "rb") as handle:
            handle.seek(_DICOM_MAGIC_OFFSET)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def input_signature(path: str | os.PathLike) -> str:
    """A short hash of the names, sizes and modification times of the file(s) behind ``path``.

    Part of a case's fingerprint, so a replaced or re-exported input is processed again while an
    untouched one is skipped, without reading whole volumes to hash them.
    """
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        try:
            stat = file.stat()
        except OSError as exc:
            raise InputError(f"Cannot open {file}: {exc.strerror} (a dangling symbolic link or a link loop?).") from None
        digest.update(f"{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class CaseTable:
    """Per-case parameters from a CSV: ``rows[case_id][column]`` with lower-case column names and
    empty cells left out; relative paths in it are taken from ``folder``."""

    rows: Mapping[str, Mapping[str, str]]
    folder: Path
    source: Path
    id_column: str = "case_id"

    def row(self, case_id: str) -> Mapping[str, str] | None:
        return self.rows.get(case_id)


def read_case_table(csv_path: str | os.PathLike, id_column: str = "case_id") -> CaseTable:
    """Read a parameters CSV with one row per case, keyed by ``id_column`` (any letter case).

    Raises :class:`InputError` for a missing file, a missing id column or a repeated case id.
    """
    path = Path(csv_path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            table = [[cell.strip() for cell in row] for row in csv.reader(handle)]
    except FileNotFoundError:
        raise InputError(f"Parameters CSV not found: {path}.") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"Cannot read the parameters CSV {path} ({exc}).") from None
    header = [name.lower() for name in table[0]] if table else []
    records = table[1:]
    key = id_column.strip().lower()
    if key not in header:
        raise InputError(f"The parameters CSV {path} has no '{id_column}' column (it has {header}). "
                         "Name the column of case ids (file names without ending) or pass --id-column.")
    rows: dict[str, dict[str, str]] = {}
    for number, cells in enumerate(records, start=2):
        if not any(cells):
            continue
        if len(cells) > len(header):
            raise InputError(f"{path} line {number} has {len(cells)} cells but the header names {len(header)} columns.")
        values = {name: cell for name, cell in zip(header, cells) if cell}
        case_id = values.pop(key, "")
        if not case_id:
            raise InputError(f"{path} line {number}: the '{id_column}' cell is empty.")
        if case_id in rows:
            raise InputError(f"{path} line {number}: case '{case_id}' appears twice.")
        rows[case_id] = values
    return CaseTable(rows, path.resolve().parent, path, id_column)

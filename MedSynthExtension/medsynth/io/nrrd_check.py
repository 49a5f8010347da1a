"""Peek at a NRRD header for a slice saved in 3D space, which ITK reports only as an internal error.

Slicer (and other NRRD writers) save one slice of a volume — say a single oblique reformat — as
a 2D NRRD whose ``space`` is the 3D patient space. ITK refuses it with "number of domain axes ...
doesn't match dimension of space", which tells a user nothing; this says what the file is.
"""

from __future__ import annotations

from pathlib import Path

from medsynth.errors import InputError

#: NRRD ``space`` names of a 3D space (NRRD format specification, "space").
_SPACES_3D = {"right-anterior-superior", "ras", "left-anterior-superior", "las", "left-posterior-superior", "lps",
              "scanner-xyz", "3d-right-handed", "3d-left-handed"}
_HEADER_LIMIT = 1 << 16


def check_nrrd_is_volume(path: Path) -> None:
    """Raise :class:`InputError` when the NRRD header at ``path`` describes fewer axes than its space."""
    with open(path, "rb") as handle:
        head = handle.read(_HEADER_LIMIT)
    if not head.startswith(b"NRRD"):
        return  # not NRRD: the image reader says what it is not
    fields = {}
    for line in head.split(b"\n\n", 1)[0].decode("latin-1").splitlines()[1:]:
        name, separator, value = line.partition(":")
        if separator and not line.startswith("#"):
            fields[name.strip().lower()] = value.lstrip("=").strip().lower()
    try:
        dimension = int(fields.get("dimension", "0"))
        space = 3 if fields.get("space") in _SPACES_3D else int(fields.get("space dimension", "0"))
    except ValueError:
        return
    if 0 < dimension < space:
        raise InputError(f"{path} is a {dimension}D slice placed in {space}D space (for example one slice saved from "
                         "an oblique or reformatted view); MedSynth needs a 3D volume: save the whole volume, not one slice.")

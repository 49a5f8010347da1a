"""Detect truncated NIfTI files, which ITK's NIfTI reader accepts silently (missing voxels read as 0).

A copy interrupted half-way, or a download cut short, still has a valid header; without this
check a model would run on a volume whose lower part is black. The check compares the bytes the
header promises (``vox_offset`` + voxels × bytes per voxel) with the bytes present (for
``.nii.gz``: the decompressed stream, which also must end with a valid gzip trailer).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

from medsynth.errors import InputError

_CHUNK = 1 << 22


def check_nifti_complete(path: Path) -> None:
    """Raise :class:`InputError` when the NIfTI file at ``path`` holds fewer bytes than its header says."""
    compressed = path.name.lower().endswith(".gz")
    if compressed and not _starts_like_gzip(path):
        return  # not gzip at all: the image reader reports what the file is not
    try:
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as handle:
            header = handle.read(540)
            expected = _expected_bytes(header)
            if expected is None:
                return  # not a single-file NIfTI-1/2 header: leave it to the reader
            present = len(header) + _drain(handle)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(f"{path} is damaged ({exc}); the file was probably cut short while copying. "
                         "Copy it again from the source.") from None
    if present < expected:
        raise InputError(f"{path} is truncated: its header describes {expected} bytes but only {present} are present. "
                         "Copy it again from the source.")


def _starts_like_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _drain(handle) -> int:
    total = 0
    while chunk := handle.read(_CHUNK):
        total += len(chunk)
    return total


def _expected_bytes(header: bytes) -> int | None:
    for endian in "<>":
        if len(header) >= 348 and struct.unpack(endian + "i", header[:4])[0] == 348 and header[344:347] == b"n+1":
            dims = struct.unpack(endian + "8h", header[40:56])
            bitpix = struct.unpack(endian + "h", header[72:74])[0]
            offset = int(struct.unpack(endian + "f", header[108:112])[0])
            return _total(dims, bitpix, offset)
        if len(header) >= 540 and struct.unpack(endian + "i", header[:4])[0] == 540 and header[4:7] == b"n+2":
            bitpix = struct.unpack(endian + "h", header[14:16])[0]
            dims = struct.unpack(endian + "8q", header[16:80])
            offset = struct.unpack(endian + "q", header[168:176])[0]
            return _total(dims, bitpix, offset)
    return None


def _total(dims, bitpix: int, offset: int) -> int | None:
    rank = dims[0]
    if not 1 <= rank <= 7 or bitpix <= 0:
        return None
    voxels = 1
    for size in dims[1:rank + 1]:
        voxels *= max(int(size), 1)
    return offset + voxels * bitpix // 8

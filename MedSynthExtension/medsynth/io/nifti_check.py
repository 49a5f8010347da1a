"""Check a NIfTI file's header and raw voxels before ITK reads it, because ITK's reader hides damage.

ITK accepts silently: a truncated file (missing voxels read as 0), NaN/Inf voxels (turned into 0),
a zero pixdim (taken as 1 mm) and an invalid scale. Each would make a model run on a volume that
is not what the user has. This module parses the NIfTI-1/2 header itself, refuses those cases, and
streams the voxel bytes once (in 4 MB chunks, so a large file never sits in memory) to count them
and, for floating-point data, to look for non-finite values.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsynth.errors import InputError
from medsynth.io.budget import check_voxel_budget

_CHUNK = 1 << 22
_FLOAT_TYPES = {16: "f4", 64: "f8"}  # NIfTI datatype codes of float32 / float64


@dataclass(frozen=True)
class _Header:
    endian: str
    dims: tuple[int, ...]
    pixdim: tuple[float, ...]
    datatype: int
    bitpix: int
    offset: int
    scl_slope: float
    scl_inter: float

    @property
    def rank(self) -> int:
        return self.dims[0]

    @property
    def voxels(self) -> int:
        total = 1
        for size in self.dims[1:self.rank + 1]:
            total *= max(int(size), 1)
        return total


def check_nifti_complete(path: Path) -> None:
    """Raise :class:`InputError` when the NIfTI file at ``path`` is truncated, non-finite or has a broken header."""
    compressed = path.name.lower().endswith(".gz")
    if compressed and not _starts_like_gzip(path):
        return  # not gzip at all: the image reader reports what the file is not
    try:
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as handle:
            raw = handle.read(540)
            header = _parse(raw)
            if header is None:
                return  # not a single-file NIfTI-1/2 header: leave it to the reader
            _check_header(path, header)
            present, non_finite = _scan(handle, raw, header)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(f"{path} is damaged ({exc}); the file was probably cut short while copying. "
                         "Copy it again from the source.") from None
    expected = header.offset + header.voxels * header.bitpix // 8
    if present < expected:
        raise InputError(f"{path} is truncated: its header describes {expected} bytes but only {present} are present. "
                         "Copy it again from the source.")
    if non_finite:
        raise InputError(f"{path} holds {non_finite} non-finite voxel values (NaN or Inf); MedSynth would read them "
                         "as 0. Replace them (e.g. with the background value) and try again.")


def _starts_like_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _parse(raw: bytes) -> _Header | None:
    for e in "<>":
        if len(raw) >= 348 and struct.unpack(e + "i", raw[:4])[0] == 348 and raw[344:347] == b"n+1":
            datatype, bitpix = struct.unpack(e + "2h", raw[70:74])
            return _Header(e, struct.unpack(e + "8h", raw[40:56]), struct.unpack(e + "8f", raw[76:108]), datatype,
                           bitpix, int(struct.unpack(e + "f", raw[108:112])[0]), *struct.unpack(e + "2f", raw[112:120]))
        if len(raw) >= 540 and struct.unpack(e + "i", raw[:4])[0] == 540 and raw[4:7] == b"n+2":
            datatype, bitpix = struct.unpack(e + "2h", raw[12:16])
            return _Header(e, struct.unpack(e + "8q", raw[16:80]), struct.unpack(e + "8d", raw[104:168]), datatype,
                           bitpix, struct.unpack(e + "q", raw[168:176])[0], *struct.unpack(e + "2d", raw[176:192]))
    return None


def _check_header(path: Path, header: _Header) -> None:
    if not 1 <= header.rank <= 7 or header.bitpix <= 0 or any(d < 1 for d in header.dims[1:header.rank + 1]):
        raise InputError(f"{path} has an invalid NIfTI header (dimensions {list(header.dims[1:header.rank + 1])}, "
                         f"{header.bitpix} bits per voxel).")
    spacing = [float(v) for v in header.pixdim[1:min(header.rank, 3) + 1]]
    if any(not math.isfinite(v) or v == 0 for v in spacing):
        raise InputError(f"{path} has voxel spacing {spacing} mm in its header (pixdim); a zero or non-finite spacing "
                         "would be taken as 1 mm. Fix the header with the software that wrote the file.")
    if not (math.isfinite(header.scl_slope) and math.isfinite(header.scl_inter)) or header.scl_slope < 0:
        raise InputError(f"{path} has an invalid intensity scale (scl_slope {header.scl_slope:g}, scl_inter "
                         f"{header.scl_inter:g}); a negative or non-finite scale would invert or erase the image.")
    check_voxel_budget(path, header.voxels)


def _scan(handle, raw: bytes, header: _Header) -> tuple[int, int]:
    """Bytes present in the file and, for float data, how many voxels are NaN or Inf."""
    dtype = _FLOAT_TYPES.get(header.datatype)
    dtype = np.dtype(header.endian + dtype) if dtype else None
    present, non_finite = len(raw), 0
    pending = raw[header.offset:] if len(raw) > header.offset else b""
    skip = max(header.offset - len(raw), 0)
    while chunk := handle.read(_CHUNK):
        present += len(chunk)
        if dtype is None:
            continue
        if skip:
            cut = min(skip, len(chunk))
            chunk, skip = chunk[cut:], skip - cut
        pending += chunk
        usable = len(pending) - len(pending) % dtype.itemsize
        non_finite += int(np.count_nonzero(~np.isfinite(np.frombuffer(pending[:usable], dtype))))
        pending = pending[usable:]
    if dtype is not None and len(pending) >= dtype.itemsize:
        usable = len(pending) - len(pending) % dtype.itemsize
        non_finite += int(np.count_nonzero(~np.isfinite(np.frombuffer(pending[:usable], dtype))))
    return present, non_finite

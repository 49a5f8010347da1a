"""Blinding: opaque case ids and images that carry nothing but pixels and geometry.

What a reader's software sees of a case is an opaque id (``case-`` + 10 hex digits of an HMAC of
the study's case id under a random secret salt kept only in the truth key) and an image file
``images/<opaque id>.nii``. The image is rewritten, not copied, into one common representation
whatever its source: voxel values rounded to the nearest integer and stored as int16 (real scans
are integer-valued and generator outputs fractional, so keeping the values would let a data probe
or a histogram tell them apart), geometry (origin, spacing, direction) kept, every other header
field left at the writer's default, and no compression (a compressed size follows the noise
texture of the values). Header text, DICOM tags, NRRD keys, NIfTI descriptions and file names do
not survive. All blinded files get the same modification time, so not even file dates follow the
study order.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Iterable

from medsynth.reading.errors import StudyError

OPAQUE_PREFIX = "case-"
BLINDED_SUFFIX = ".nii"
#: The common voxel grid: integers in the int16 range.
BLINDED_RANGE = (-32768, 32767)
#: Fewer integer levels than this and rounding would destroy the image: refuse rather than blur.
MIN_INTEGER_LEVELS = 64
_OPAQUE_HEX_DIGITS = 10


def make_salt() -> str:
    """A fresh random secret (hex) from which opaque ids are derived; kept only in the truth key."""
    return secrets.token_hex(16)


def opaque_case_id(salt: str, case_id: str) -> str:
    """The reader-facing id of ``case_id``: unguessable without ``salt``, stable with it."""
    digest = hmac.new(salt.encode("utf-8"), case_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return OPAQUE_PREFIX + digest[:_OPAQUE_HEX_DIGITS]


def assign_opaque_ids(case_ids: Iterable[str], salt: str | None = None) -> tuple[str, dict[str, str]]:
    """Map every case id to a distinct opaque id; returns ``(salt, {case_id: opaque_id})``.

    With 40 bits per id a collision is vanishingly rare; if one happens a new salt is drawn.
    """
    case_ids = list(case_ids)
    for _ in range(100):
        salt = salt or make_salt()
        mapping = {case_id: opaque_case_id(salt, case_id) for case_id in case_ids}
        if len(set(mapping.values())) == len(mapping):
            return salt, mapping
        salt = None
    raise StudyError("Could not give the cases distinct opaque ids; are the case ids unique?")


def write_blinded_image(source: str | os.PathLike, destination: str | os.PathLike) -> Path:
    """Write the pixels and geometry of ``source`` (file or DICOM folder) to ``destination`` in
    the common blinded representation (int16, values rounded, uncompressed, empty metadata).

    ``source`` is untouched. Raises :class:`~medsynth.errors.InputError` when the source cannot be
    read and :class:`StudyError` when its values do not fit the common grid (a generator output in
    0-1 units, say: it must be put in the real scans' units before a study is built).
    """
    import numpy as np
    import SimpleITK as sitk

    from medsynth.io.images import read_image, write_image

    image = read_image(source)
    array = sitk.GetArrayViewFromImage(image).astype(np.float64)
    finite = array[np.isfinite(array)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if high - low < MIN_INTEGER_LEVELS:
        raise StudyError(f"{source}: values span only {high - low:.3g} units; blinded images are stored as "
                         f"integers, so put the image in the real scans' intensity units first.")
    if low < BLINDED_RANGE[0] - 0.5 or high > BLINDED_RANGE[1] + 0.5:
        raise StudyError(f"{source}: values {low:.6g}..{high:.6g} exceed the int16 range of blinded images.")
    quantised = np.rint(np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)).astype(np.int16)
    clean = sitk.GetImageFromArray(quantised, isVector=image.GetNumberOfComponentsPerPixel() > 1)
    clean.SetOrigin(image.GetOrigin())
    clean.SetSpacing(image.GetSpacing())
    clean.SetDirection(image.GetDirection())
    return write_image(clean, destination, compress=False)


def outside_domain_stamp(source: str | os.PathLike) -> str | None:
    """The ``MedSynth.OutsideDomain`` stamp in an image file's header (NRRD/MHA keep it), or None."""
    import SimpleITK as sitk

    if not os.path.isfile(source):
        return None
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(source))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return None
    key = "MedSynth.OutsideDomain"
    return reader.GetMetaData(key) if reader.HasMetaDataKey(key) else None


def blinded_image_name(opaque_id: str) -> str:
    """File name of a blinded image: the opaque id and nothing else."""
    return opaque_id + BLINDED_SUFFIX


def equalise_mtimes(paths: Iterable[Path], timestamp: float) -> None:
    """Give every path the same access and modification time (seconds since the epoch)."""
    for path in paths:
        os.utime(path, (timestamp, timestamp))

"""Blinding: opaque case ids and images that carry nothing but pixels and geometry.

What a reader's software sees of a case is an opaque id (``case-`` + 10 hex digits of an HMAC of
the study's case id under a random secret salt kept only in the truth key) and an image file
``images/<opaque id>.nii.gz``. The image is rewritten, not copied: only the voxel values (as
float32, so a generator's output type cannot give it away) and the geometry (origin, spacing,
direction) survive; header text, DICOM tags, NRRD keys, NIfTI descriptions and file names do not.
All blinded files get the same modification time, so not even file dates follow the study order.
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
BLINDED_SUFFIX = ".nii.gz"
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
    """Write the pixels and geometry of ``source`` (file or DICOM folder) to ``destination``.

    The result is float32 with an empty metadata dictionary; ``source`` is untouched.
    Raises :class:`~medsynth.errors.InputError` when the source cannot be read.
    """
    import numpy as np
    import SimpleITK as sitk

    from medsynth.io.images import read_image, write_image

    image = read_image(source)
    array = sitk.GetArrayViewFromImage(image).astype(np.float32)
    clean = sitk.GetImageFromArray(array, isVector=image.GetNumberOfComponentsPerPixel() > 1)
    clean.SetOrigin(image.GetOrigin())
    clean.SetSpacing(image.GetSpacing())
    clean.SetDirection(image.GetDirection())
    return write_image(clean, destination, compress=True)


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

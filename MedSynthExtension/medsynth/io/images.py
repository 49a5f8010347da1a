"""Read NIfTI / NRRD / MHA files and DICOM series folders; write images atomically."""

from __future__ import annotations

import math
import os
from pathlib import Path

import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.io.atomic import atomic_path
from medsynth.io.budget import check_voxel_budget
from medsynth.io.dicom_series import check_series
from medsynth.io.nifti_check import check_nifti_complete
from medsynth.io.nrrd_check import check_nrrd_is_volume

#: File name endings MedSynth reads and writes as volumes (lower case).
IMAGE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")
_WRITABLE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha")


def is_image_path(path: str | os.PathLike) -> bool:
    """True when ``path`` names a volume file by its ending (not a DICOM folder)."""
    return str(path).lower().endswith(IMAGE_SUFFIXES)


def read_image(path: str | os.PathLike) -> sitk.Image:
    """Read a volume from a NIfTI / NRRD / MHA file or from a folder holding one DICOM series.

    Raises :class:`InputError` naming the path when it is missing, unreadable, or a folder with
    no (or more than one) DICOM series.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"Input not found: {path}. Check the path and try again.")
    if path.is_dir():
        return _read_dicom_series(path)
    if path.name.lower().endswith((".nii", ".nii.gz")):
        check_nifti_complete(path)
    elif path.name.lower().endswith((".nrrd", ".nhdr")):
        check_nrrd_is_volume(path)
    try:
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        reader.ReadImageInformation()
        check_voxel_budget(path, math.prod(reader.GetSize()) * reader.GetNumberOfComponents())
        return reader.Execute()
    except RuntimeError as exc:
        raise InputError(
            f"Cannot read {path} as an image ({_first_line(exc)}). "
            "MedSynth reads NIfTI (.nii, .nii.gz), NRRD, MHA/MHD files and DICOM series folders."
        ) from None


def _read_dicom_series(folder: Path) -> sitk.Image:
    series_ids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    if not series_ids:
        raise InputError(f"No DICOM series found in folder {folder}. Point to a folder of .dcm files or to an image file.")
    if len(series_ids) > 1:
        raise InputError(
            f"Folder {folder} holds {len(series_ids)} DICOM series ({', '.join(series_ids)}); "
            "put each series in its own folder."
        )
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series_ids[0])
    check_series(folder, files)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    try:
        return reader.Execute()
    except RuntimeError as exc:
        raise InputError(f"Cannot read the DICOM series in {folder} ({_first_line(exc)}).") from None


def write_image(image: sitk.Image, path: str | os.PathLike, compress: bool = True, provenance=None) -> Path:
    """Write ``image`` to ``path`` (NIfTI, NRRD or MHA, by ending) atomically; return the path.

    With ``provenance`` (:class:`medsynth.provenance.Provenance`) the file says what it is: NIfTI's
    80-character ``descrip`` field gets :func:`file_note` ("SYNTHETIC <model> <version>", and
    "OUTSIDE VALIDATED DOMAIN" when the run was), NRRD and MHA get every ``MedSynth.*`` attribute.
    The caller's image is not changed.
    """
    path = Path(path)
    if not str(path).lower().endswith(_WRITABLE_SUFFIXES):
        raise InputError(f"Cannot write {path}: use one of {', '.join(_WRITABLE_SUFFIXES)}.")
    if provenance is not None:
        image = sitk.Image(image)
        image.SetMetaData("ITK_FileNotes", file_note(provenance))  # NIfTI: the descrip field
        if not str(path).lower().endswith((".nii", ".nii.gz")):
            for key, value in provenance.as_attributes().items():
                image.SetMetaData(key, value)
    with atomic_path(path) as tmp:
        sitk.WriteImage(image, str(tmp), compress)
    return path


def file_note(provenance) -> str:
    """The short mark a written output carries (NIfTI ``descrip``: at most 79 ASCII characters)."""
    note = f"{'SYNTHETIC' if provenance.synthetic else 'DERIVED'} MedSynth {provenance.model_id} {provenance.model_version}"
    if provenance.outside_domain:
        note = "OUTSIDE VALIDATED DOMAIN; " + note
    return note.encode("ascii", "replace").decode("ascii")[:79]


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__

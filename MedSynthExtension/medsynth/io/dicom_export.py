"""Export a synthetic CT as a DICOM CT series that a treatment-planning system can import.

One file per slice (CT Image Storage, explicit VR little endian, int16 HU with RescaleSlope 1 and
RescaleIntercept 0), written with pydicom. Every file says loudly that it is synthetic:

* ``Synthetic Data (0008,001C) = YES``, ``ImageType = DERIVED\\SECONDARY\\AXIAL``;
* a SeriesDescription that contains ``SYNTHETIC``;
* MedSynth as *Synthesizing Equipment* (DCM 109100) in the Contributing Equipment Sequence
  (0018,A001), with its version, the time, and the model that made the image;
* a DerivationDescription naming the source series and the model.

With a reference series (the MR the sCT was computed from) the sCT joins that patient and study
and shares its FrameOfReferenceUID, so a planning system overlays it on the MR without
registration; the sCT must therefore lie in the MR's patient coordinates (checked: their extents
must overlap). Without one, a new anonymous patient and study with obvious placeholder names are
made. Series and instance UIDs are always new.

Geometry comes from the SimpleITK image (LPS, as DICOM): ImagePositionPatient per slice,
ImageOrientationPatient from the first two direction columns, PixelSpacing, SliceThickness and
SpacingBetweenSlices. DICOM readers stack slices by position along row x column, and instance
numbers follow that order here, as in a scanner's series; an image whose third axis points the
other way (a left-handed index order such as LAS) is therefore written from its last slice to its
first. Every voxel keeps its physical position and value; only the index order along the slice
axis of the re-read volume differs from the input's.

Values are rounded to the nearest HU; values that do not fit int16 (beyond -32768..32767 HU,
which no CT holds) and NaN are refused rather than clipped, because a silently altered planning
CT would be worse than none.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, generate_uid
from pydicom.valuerep import format_number_as_ds

from medsynth import __version__
from medsynth.errors import InputError
from medsynth.io.hu_check import check_looks_like_ct
from medsynth.io.atomic import current_umask
from medsynth.io.images import read_image

#: Purpose of Reference of MedSynth in the Contributing Equipment Sequence (DICOM CID 7005).
SYNTHESIZING_EQUIPMENT_CODE = ("109100", "DCM", "Synthesizing Equipment")
#: What every exported SeriesDescription contains.
SYNTHETIC_MARK = "SYNTHETIC"
DEFAULT_SERIES_DESCRIPTION = "SYNTHETIC CT (MedSynth)"
#: Put after the synthetic mark when the sCT was made outside its model's validated domain
#: (provenance key ``OutsideDomain``); the full stamp goes into the DerivationDescription.
OUTSIDE_DOMAIN_MARK = "OUTSIDE VALIDATED DOMAIN"
#: Placeholders when no reference series is given: nobody can mistake them for a real patient.
PLACEHOLDER_PATIENT_NAME = "SYNTHETIC^ANONYMOUS"
PLACEHOLDER_PATIENT_ID_PREFIX = "MEDSYNTH-ANON-"

_INT16_MIN, _INT16_MAX = -32768, 32767
#: Patient / study / frame-of-reference attributes taken from the reference series when present.
_COPIED_FROM_REFERENCE = (
    "PatientName", "PatientID", "IssuerOfPatientID", "OtherPatientIDsSequence", "PatientBirthDate",
    "PatientBirthTime", "PatientSex", "PatientAge", "PatientSize", "PatientWeight", "PatientComments",
    "PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence",
    "StudyInstanceUID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName",
    "StudyDescription", "FrameOfReferenceUID", "PositionReferenceIndicator", "PatientPosition",
)
# Type 2 attributes (must be present, may be empty) of the modules of a CT image.
_TYPE2_EMPTY = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID",
    "AccessionNumber", "ReferringPhysicianName", "PositionReferenceIndicator", "PatientPosition", "KVP",
    "AcquisitionNumber",
)


@dataclass(frozen=True)
class DicomExportResult:
    """Where the series went and the identifiers a planning system will show."""

    out_dir: Path
    files: tuple[Path, ...]
    series_instance_uid: str
    study_instance_uid: str
    frame_of_reference_uid: str
    patient_id: str
    #: True when the image's slice axis was left-handed and slices were written in reverse order.
    slice_order_reversed: bool


@dataclass(frozen=True)
class _Reference:
    header: Dataset
    series_instance_uid: str
    lower_mm: np.ndarray
    upper_mm: np.ndarray


def export_sct_dicom(
    image: sitk.Image | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    reference_series: str | os.PathLike | None = None,
    series_description: str | None = None,
    series_number: int | None = None,
    extra_attributes: Mapping[str, object] | None = None,
    overwrite: bool = False,
) -> DicomExportResult:
    """Write the synthetic CT ``image`` (HU; an image or a file path) as a CT series into ``out_dir``.

    ``reference_series``: folder of the source MR series; its patient, study and frame of
    reference are reused. ``series_description`` gets ``SYNTHETIC`` prepended when it lacks it.
    ``extra_attributes`` (e.g. ``Provenance.as_attributes()`` or ``{"ModelId": ..., "ModelVersion":
    ...}``) are recorded as ``key=value`` text in the Contributing Equipment item and the
    DerivationDescription; a model id / version key also fills ManufacturerModelName /
    SoftwareVersions there.

    The folder appears whole or not at all: the series is written into a temporary folder beside
    ``out_dir`` and renamed. A non-empty ``out_dir`` is refused unless ``overwrite``.
    """
    out_dir = Path(out_dir)
    source_path = None if isinstance(image, sitk.Image) else Path(image)
    if source_path is not None:
        image = read_image(source_path)
    _check_destination(out_dir, overwrite, source_path, reference_series)
    hu, origin, direction, spacing, reversed_order = _slices_in_dicom_order(image)
    check_looks_like_ct(hu, remedy="Export only a synthetic CT.")
    reference = _read_reference(Path(reference_series)) if reference_series is not None else None
    if reference is not None:
        _check_overlap(image, reference)

    now = _dt.datetime.now()
    extra_attributes = {**_stamp_of(image), **dict(extra_attributes or {})}
    common = _common_dataset(reference, series_description, series_number, extra_attributes, now)
    row_dir, col_dir, normal = direction[:, 0], direction[:, 1], direction[:, 2]
    n_slices = hu.shape[0]
    width = max(4, len(str(n_slices)))

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes 0700; the series must follow the umask
    try:
        names = []
        for k in range(n_slices):
            position = origin + k * spacing[2] * normal
            ds = _slice_dataset(common, hu[k], position, row_dir, col_dir, normal, spacing, k + 1, now)
            name = f"CT{k + 1:0{width}d}.dcm"
            pydicom.dcmwrite(staging / name, ds, enforce_file_format=True)
            names.append(name)
        _move_into_place(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return DicomExportResult(
        out_dir=out_dir,
        files=tuple(out_dir / name for name in names),
        series_instance_uid=str(common.SeriesInstanceUID),
        study_instance_uid=str(common.StudyInstanceUID),
        frame_of_reference_uid=str(common.FrameOfReferenceUID),
        patient_id=str(common.PatientID),
        slice_order_reversed=reversed_order,
    )


# --------------------------------------------------------------------------------------------
# Image -> slices


def _axial_lps(image: sitk.Image) -> sitk.Image:
    """The image re-oriented to LPS (DICOM ImageOrientationPatient 1,0,0,0,1,0) when its axes are aligned.

    Axis flips and permutations move no voxel value, so the series is exactly the input, stored
    the way planning systems expect an axial head-first-supine CT. Oblique images stay as they are.
    """
    direction = np.abs(np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3))
    if not np.allclose(np.sort(direction, axis=0), [[0, 0, 0], [0, 0, 0], [1, 1, 1]], atol=1e-6):
        return image
    return sitk.DICOMOrient(image, "LPS")


def _slices_in_dicom_order(image: sitk.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """int16 HU array (slice, row, column), first-slice origin, direction (columns), spacing, reversed?"""
    if image.GetDimension() != 3:
        raise InputError(
            f"A CT series needs a 3-D volume; this image is {image.GetDimension()}-D. "
            "Export the full synthetic volume, not a single slice."
        )
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError("The image has several components per voxel (colour or vector); a CT holds one HU value per voxel.")
    if "complex" in image.GetPixelIDTypeAsString():
        raise InputError("The image holds complex numbers; a CT holds real HU values.")
    image = _axial_lps(image)
    values = sitk.GetArrayFromImage(image).astype(np.float64)  # (z, y, x); a copy, the input stays as it is
    if not np.isfinite(values).all():
        raise InputError(
            f"The image holds {int(np.count_nonzero(~np.isfinite(values)))} NaN or infinite voxel(s); "
            "a planning CT cannot. Check the model run that produced it."
        )
    rounded = np.rint(values)
    low, high = float(rounded.min()), float(rounded.max())
    if low < _INT16_MIN or high > _INT16_MAX:
        raise InputError(
            f"The image ranges from {low:g} to {high:g}, beyond what a CT stores (int16, -32768..32767 HU). "
            "Is it in Hounsfield units? If so, clip it first (synthetic CTs are usually clipped to -1024..3071 HU)."
        )
    hu = rounded.astype(np.int16)
    direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
    spacing = np.asarray(image.GetSpacing(), dtype=np.float64)
    origin = np.asarray(image.GetOrigin(), dtype=np.float64)
    if np.any(spacing <= 0):
        raise InputError(f"The image has a non-positive voxel spacing {tuple(spacing)}; fix its header first.")
    reversed_order = bool(np.dot(np.cross(direction[:, 0], direction[:, 1]), direction[:, 2]) < 0)
    if reversed_order:
        # Readers stack along row x column; walk the slices from the other end so that holds.
        origin = np.asarray(image.TransformIndexToPhysicalPoint((0, 0, image.GetSize()[2] - 1)), dtype=np.float64)
        direction = direction.copy()
        direction[:, 2] = -direction[:, 2]
        hu = hu[::-1]
    return np.ascontiguousarray(hu), origin, direction, spacing, reversed_order


# --------------------------------------------------------------------------------------------
# Reference series


def _read_reference(folder: Path) -> _Reference:
    if not folder.is_dir():
        raise InputError(f"Reference series folder not found: {folder}. Give the folder of the source MR series.")
    headers = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            headers.append(pydicom.dcmread(path, stop_before_pixels=True))
        except (InvalidDicomError, OSError):
            continue  # READMEs, thumbnails, DICOMDIR-less clutter
    headers = [h for h in headers if "SeriesInstanceUID" in h and "StudyInstanceUID" in h]
    if not headers:
        raise InputError(f"No DICOM image found in {folder}. Give the folder holding the source MR series files.")
    series = {str(h.SeriesInstanceUID) for h in headers}
    if len(series) > 1:
        raise InputError(
            f"{folder} holds {len(series)} DICOM series; put the source MR series alone in its own folder."
        )
    for keyword in ("StudyInstanceUID", "PatientID", "FrameOfReferenceUID"):
        found = {str(h.get(keyword, "")) for h in headers}
        if len(found) > 1:
            raise InputError(f"The files of the reference series in {folder} disagree on {keyword}; the series is inconsistent.")
    first = headers[0]
    if not first.get("FrameOfReferenceUID"):
        raise InputError(
            f"The reference series in {folder} has no FrameOfReferenceUID, so the sCT could not be placed in its "
            "coordinates. Export without --reference-series, then register the sCT in the planning system."
        )
    corners = []
    for h in headers:
        try:
            position = np.asarray(h.ImagePositionPatient, dtype=np.float64)
            orientation = np.asarray(h.ImageOrientationPatient, dtype=np.float64)
            row_spacing, col_spacing = (float(v) for v in h.PixelSpacing)
            rows, cols = int(h.Rows), int(h.Columns)
        except (AttributeError, TypeError, ValueError):
            continue
        along_row = orientation[:3] * col_spacing * (cols - 1)
        along_col = orientation[3:] * row_spacing * (rows - 1)
        corners += [position, position + along_row, position + along_col, position + along_row + along_col]
    if not corners:
        raise InputError(f"The reference series in {folder} has no image geometry (ImagePositionPatient etc.).")
    corners_array = np.array(corners)
    return _Reference(first, str(first.SeriesInstanceUID), corners_array.min(axis=0), corners_array.max(axis=0))


#: An sCT keeps the grid of the MR it was computed from: its box must cover nearly the same region as the
#: reference series (intersection over union of the two boxes); a box that merely overlaps is another scan.
MIN_BOX_IOU = 0.9


def _check_overlap(image: sitk.Image, reference: _Reference) -> None:
    size = image.GetSize()
    corners = np.array([
        image.TransformIndexToPhysicalPoint((i, j, k))
        for i in (0, size[0] - 1) for j in (0, size[1] - 1) for k in (0, size[2] - 1)
    ])
    low, high = corners.min(axis=0), corners.max(axis=0)
    if np.any(high < reference.lower_mm) or np.any(low > reference.upper_mm):
        raise InputError(
            "The synthetic CT does not overlap the reference series in patient coordinates, so sharing the "
            "reference's FrameOfReferenceUID would misplace it. Was the sCT resampled or moved after "
            "synthesis? Export it without --reference-series, or restore the MR's geometry first."
        )
    iou = _box_iou(low, high, reference.lower_mm, reference.upper_mm)
    if iou < MIN_BOX_IOU:
        raise InputError(
            f"The synthetic CT covers another region than the reference series (their boxes share only "
            f"{100 * iou:.0f} % of their extent; an sCT made from that MR covers the same box). It may be another "
            "patient's or another scan's sCT: filing it under this patient and frame of reference would be wrong. "
            "Give the MR series the sCT was computed from, or export without --reference-series."
        )


def _box_iou(low_a: np.ndarray, high_a: np.ndarray, low_b: np.ndarray, high_b: np.ndarray) -> float:
    """Intersection over union of two axis-aligned boxes (flat boxes get 1 mm of thickness)."""
    def volume(low: np.ndarray, high: np.ndarray) -> float:
        return float(np.prod(np.maximum(high - low, 1.0)))
    inter = np.clip(np.minimum(high_a, high_b) - np.maximum(low_a, low_b), 0.0, None)
    inter_volume = float(np.prod(np.maximum(inter, 1.0))) if np.all(inter > 0) else 0.0
    return inter_volume / (volume(low_a, high_a) + volume(low_b, high_b) - inter_volume)


# --------------------------------------------------------------------------------------------
# Datasets


def _common_dataset(
    reference: _Reference | None,
    series_description: str | None,
    series_number: int | None,
    extra_attributes: Mapping[str, object] | None,
    now: _dt.datetime,
) -> Dataset:
    """Attributes shared by every slice of the series."""
    ds = Dataset()
    for keyword in _TYPE2_EMPTY:
        setattr(ds, keyword, "")
    date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    extras = {str(k): str(v) for k, v in (extra_attributes or {}).items()}
    model_id, model_version = _model_identity(extras)
    outside = bool(extras.get("OutsideDomain") or extras.get("MedSynth.OutsideDomain"))
    extras_text = "; ".join(f"{k}={v}" for k, v in extras.items())

    if reference is not None:
        for keyword in _COPIED_FROM_REFERENCE:
            if keyword in reference.header:
                setattr(ds, keyword, reference.header.get(keyword))
        source = f"MR series {reference.series_instance_uid}"
        description = reference.header.get("SeriesDescription")
        if description:
            source += f" ('{description}')"
        reference_series_number = reference.header.get("SeriesNumber")
    else:
        ds.PatientName = PLACEHOLDER_PATIENT_NAME
        ds.PatientID = PLACEHOLDER_PATIENT_ID_PREFIX + uuid.uuid4().hex[:8].upper()
        ds.StudyInstanceUID = generate_uid()
        ds.FrameOfReferenceUID = generate_uid()
        ds.StudyDate, ds.StudyTime = date, time
        ds.StudyDescription = "MedSynth synthetic CT (no reference study)"
        source = "an input image without DICOM reference"
        reference_series_number = None

    ds.Modality = "CT"
    ds.BodyPartExamined = "HEAD"  # not a paired structure: Laterality (Type 2C) is then not required
    ds.SOPClassUID = CTImageStorage
    ds.SeriesInstanceUID = generate_uid()
    if series_number is None:
        series_number = 1000 + int(reference_series_number) if reference_series_number not in (None, "") else 1000
    ds.SeriesNumber = int(series_number)
    ds.SeriesDescription = _synthetic_description(series_description, outside)
    ds.SeriesDate, ds.SeriesTime = date, time
    ds.ContentDate, ds.ContentTime = date, time
    ds.InstanceCreationDate, ds.InstanceCreationTime = date, time
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.SyntheticData = "YES"
    ds.BurnedInAnnotation = "NO"
    ds.Manufacturer = "MedSynth"
    ds.ManufacturerModelName = _lo(model_id or "MedSynth synthetic CT")
    ds.SoftwareVersions = [f"medsynth {__version__}"] + ([_lo(model_version)] if model_version else [])
    derivation = f"Synthetic CT computed by MedSynth {__version__} from {source}; not acquired on a CT scanner."
    if extras_text:
        derivation += f" {extras_text}"
    ds.DerivationDescription = derivation[:1024]

    equipment = Dataset()
    equipment.Manufacturer = "MedSynth"
    equipment.ManufacturerModelName = ds.ManufacturerModelName
    equipment.SoftwareVersions = ds.SoftwareVersions
    equipment.ContributionDateTime = now.strftime("%Y%m%d%H%M%S")
    equipment.ContributionDescription = (
        "Generated this synthetic CT from MR with a generative model" + (f": {extras_text}" if extras_text else ".")
    )[:1024]
    purpose = Dataset()
    purpose.CodeValue, purpose.CodingSchemeDesignator, purpose.CodeMeaning = SYNTHESIZING_EQUIPMENT_CODE
    equipment.PurposeOfReferenceCodeSequence = Sequence([purpose])
    ds.ContributingEquipmentSequence = Sequence([equipment])

    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1  # signed
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = ["40", "500"]
    ds.WindowWidth = ["400", "2000"]
    ds.WindowCenterWidthExplanation = ["SOFT TISSUE", "BONE"]
    ds.SpecificCharacterSet = _character_set(ds)
    return ds


def _slice_dataset(
    common: Dataset,
    pixels: np.ndarray,
    position: np.ndarray,
    row_dir: np.ndarray,
    col_dir: np.ndarray,
    normal: np.ndarray,
    spacing: np.ndarray,
    instance_number: int,
    now: _dt.datetime,
) -> Dataset:
    ds = Dataset()
    ds.update(common)
    ds.SOPInstanceUID = generate_uid()
    ds.InstanceNumber = instance_number
    ds.ImagePositionPatient = [format_number_as_ds(float(v)) for v in position]
    ds.ImageOrientationPatient = [format_number_as_ds(float(v)) for v in (*row_dir, *col_dir)]
    # PixelSpacing is (between rows, between columns) = (y spacing, x spacing).
    ds.PixelSpacing = [format_number_as_ds(float(spacing[1])), format_number_as_ds(float(spacing[0]))]
    ds.SliceThickness = format_number_as_ds(float(spacing[2]))
    ds.SpacingBetweenSlices = format_number_as_ds(float(spacing[2]))
    ds.SliceLocation = format_number_as_ds(float(np.dot(position, normal)))
    ds.Rows, ds.Columns = int(pixels.shape[0]), int(pixels.shape[1])
    ds.SmallestImagePixelValue = int(pixels.min())
    ds.LargestImagePixelValue = int(pixels.max())
    ds.PixelData = pixels.astype("<i2", copy=False).tobytes()

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"MEDSYNTH_{__version__}"[:16]
    ds.file_meta = meta
    return ds


def _model_identity(extras: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Model id and version from extra attributes, whatever their spelling (ModelId, model_id, MedSynth.ModelId)."""
    normalised = {k.split(".")[-1].replace("_", "").replace("-", "").lower(): v for k, v in extras.items()}
    return normalised.get("modelid") or None, normalised.get("modelversion") or None


def _stamp_of(image: sitk.Image) -> dict[str, str]:
    """The outside-domain stamp an sCT image carries in its metadata (``MedSynth.OutsideDomain``), if any."""
    key = "MedSynth.OutsideDomain"
    return {"OutsideDomain": image.GetMetaData(key)} if image.HasMetaDataKey(key) else {}


def _synthetic_description(text: str | None, outside_domain: bool = False) -> str:
    text = (text or DEFAULT_SERIES_DESCRIPTION).strip()
    if SYNTHETIC_MARK not in text.upper():
        text = f"{SYNTHETIC_MARK} {text}"
    if outside_domain and OUTSIDE_DOMAIN_MARK not in text.upper():
        text = f"{SYNTHETIC_MARK} {OUTSIDE_DOMAIN_MARK} {text[len(SYNTHETIC_MARK):].strip()}" \
            if text.upper().startswith(SYNTHETIC_MARK) else f"{SYNTHETIC_MARK} {OUTSIDE_DOMAIN_MARK} {text}"
    return _lo(text)


def _lo(text: str) -> str:
    """A Long String value: at most 64 characters, no backslash (the value separator)."""
    return str(text).replace("\\", "/")[:64]


def _character_set(ds: Dataset) -> str:
    """Latin-1 (ISO_IR 100) when every text fits it, which every planning system reads; else UTF-8."""
    texts = [str(elem.value) for elem in ds.iterall() if elem.VR in ("PN", "LO", "SH", "ST", "LT", "UT")]
    try:
        "".join(texts).encode("latin-1")
        return "ISO_IR 100"
    except UnicodeEncodeError:
        return "ISO_IR 192"


# --------------------------------------------------------------------------------------------
# Atomic folder


def _check_destination(out_dir: Path, overwrite: bool, source: Path | None, reference: str | os.PathLike | None) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir} exists and is not a folder; choose a folder for the DICOM series.")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise InputError(
                f"{out_dir} is not empty; choose a new or empty folder, or pass --overwrite to replace its contents."
            )
        foreign = sorted(p.name for p in out_dir.iterdir() if not _is_dicom_file(p))
        if foreign:
            raise InputError(f"--overwrite replaces only a folder of DICOM files, and {out_dir} also holds "
                             f"{', '.join(foreign[:5])}; choose another folder or move those away.")
        resolved = out_dir.resolve()
        protected = [p for p in (source, Path(reference) if reference is not None else None) if p is not None]
        for path in protected:
            path = path.resolve()
            if path == resolved or resolved in path.parents:
                raise InputError(
                    f"Refusing to overwrite {out_dir}: it holds an input ({path}). Choose another output folder."
                )


def _is_dicom_file(path: Path) -> bool:
    if not path.is_file() or path.is_symlink():
        return False
    with open(path, "rb") as handle:
        handle.seek(128)
        return handle.read(4) == b"DICM"


def _move_into_place(staging: Path, out_dir: Path) -> None:
    """Rename the finished staging folder to ``out_dir``; an old folder is removed only afterwards."""
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    if not any(out_dir.iterdir()):
        out_dir.rmdir()
        os.replace(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
    retired.rmdir()
    os.replace(out_dir, retired)
    try:
        os.replace(staging, out_dir)
    except OSError:
        os.replace(retired, out_dir)  # put the old series back rather than leave nothing
        raise
    shutil.rmtree(retired, ignore_errors=True)

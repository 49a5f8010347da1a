"""Real lesion patches on T1 for the appearance generator, with hand-threshold lesion references.

The project has three real lesion scans without labels (``shared/data``): a glioma (BraTS) and a
metastasis (AURORA), both tumour-like, and a chronic stroke. Their lesions are outlined by fixed
hand thresholds (chosen by looking at the thresholded components once, not tuned to a metric):

* tumour: FLAIR above 1.6 × the brain's median FLAIR (tumour and oedema), the largest connected
  component inside the 2 mm-eroded brain, holes filled per slice;
* stroke: T1 below 0.45 × the brain's median T1 (the CSF-filled cavity) inside the eroded brain,
  the largest component whose centre is ≥ 10 mm off the midline (the ventricles are on it), plus
  the FLAIR > 1.6 components touching it (the gliotic rim), holes filled per slice.

Every axial 2 mm slice with at least 12 lesion voxels gives one 48 × 48 patch: the lesion mask and
the T1 divided by the brain's median T1. The most superior quarter of each scan's lesion slices
is held out (for the realism measurement), the rest trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.io import read_image
from medsynth.tasks.synthesis.grid import ORIENTATION, PATCH_SIZE, SPACING_MM, patch_window, resample_to_grid

MIN_SLICE_VOXELS = 12
HELD_OUT_FRACTION = 0.25
TUMOUR_FLAIR_RATIO = 1.6
STROKE_T1_RATIO = 0.45
MIDLINE_MM = 10.0


@dataclass(frozen=True)
class LesionScan:
    """A real lesion scan (skull-stripped T1, and FLAIR for the hand threshold, or a label map
    whose non-zero voxels are the lesion, e.g. a BraTS ``seg``) and its lesion type."""

    name: str
    t1: Path
    flair: Path | None
    lesion_type: str
    label: Path | None = None


def brats_folder_scans(folder: Path) -> list[LesionScan]:
    """Cases of a BraTS-style folder: ``<case>/t1n.nii.gz`` (or ``t1.nii.gz``) + ``seg.nii.gz``."""
    scans = []
    for case in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
        t1 = next((case / n for n in ("t1n.nii.gz", "t1.nii.gz") if (case / n).is_file()), None)
        if t1 is not None and (case / "seg.nii.gz").is_file():
            scans.append(LesionScan(case.name, t1, None, "tumour", case / "seg.nii.gz"))
    if not scans:
        raise InputError(f"{folder} has no case folder with t1n.nii.gz (or t1.nii.gz) and seg.nii.gz.")
    return scans


def shared_lesion_scans(data: Path) -> list[LesionScan]:
    data = Path(data)
    return [LesionScan("brats_glioma", data / "brats_glioma" / "t1n.nii.gz", data / "brats_glioma" / "t2f.nii.gz", "tumour"),
            LesionScan("aurora_metastasis", data / "aurora_metastasis" / "t1.nii.gz",
                       data / "aurora_metastasis" / "flair.nii.gz", "tumour"),
            LesionScan("stroke", data / "stroke" / "T1.nii.gz", data / "stroke" / "FLAIR.nii.gz", "stroke")]


@dataclass(frozen=True)
class LesionPatches:
    """Patches (n, 48, 48): T1 / brain median, lesion mask; per patch its type, scan and split."""

    intensity: np.ndarray
    mask: np.ndarray
    lesion_type: np.ndarray
    scan: np.ndarray
    held_out: np.ndarray

    def subset(self, keep: np.ndarray) -> "LesionPatches":
        return LesionPatches(*(getattr(self, f)[keep] for f in ("intensity", "mask", "lesion_type", "scan", "held_out")))

    @property
    def mean_contrast(self) -> np.ndarray:
        return (self.intensity * self.mask).sum((1, 2)) / self.mask.sum((1, 2))


def _on_grid(path: Path, reference: sitk.Image | None = None, interpolator: int = sitk.sitkLinear) -> sitk.Image:
    image = sitk.DICOMOrient(sitk.Cast(read_image(path), sitk.sitkFloat32), ORIENTATION)
    if reference is None:
        array = sitk.GetArrayFromImage(image)
        index = np.argwhere(array > 0)
        low, high = index.min(0), index.max(0)
        points = [np.asarray(image.TransformIndexToPhysicalPoint([int(v) for v in c[::-1]])) for c in (low, high)]
        depth = int(np.ceil(abs(points[1][2] - points[0][2]) / SPACING_MM)) + 1
        return resample_to_grid(image, (points[0] + points[1]) / 2, depth, interpolator)
    return sitk.Resample(image, reference, sitk.Transform(), interpolator, 0.0, sitk.sitkFloat32)


@dataclass(frozen=True)
class ScanSlices:
    """A real lesion scan on the synthesis grid: T1 / brain median, brain, lesion (z, y, x)."""

    t1: np.ndarray
    brain: np.ndarray
    lesion: np.ndarray


def scan_slices(scan: LesionScan) -> ScanSlices:
    """``scan`` on the 2 mm grid with its lesion (label map, else the hand threshold)."""
    t1_image = _on_grid(scan.t1)
    t1 = sitk.GetArrayFromImage(t1_image)
    brain = ndi.binary_fill_holes(t1 > 0)
    if scan.label is not None:
        lesion = sitk.GetArrayFromImage(_on_grid(scan.label, t1_image, sitk.sitkNearestNeighbor)) > 0
    else:
        flair = sitk.GetArrayFromImage(_on_grid(scan.flair, t1_image))
        x_mm = t1_image.GetOrigin()[0] + SPACING_MM * np.broadcast_to(np.arange(t1.shape[2]), t1.shape)
        lesion = hand_threshold_mask(scan, t1, flair, brain, x_mm)
    return ScanSlices((t1 / np.median(t1[brain])).astype(np.float32), brain, lesion & brain)


def hand_threshold_mask(scan: LesionScan, t1: np.ndarray, flair: np.ndarray, brain: np.ndarray,
                        x_mm: np.ndarray) -> np.ndarray:
    """The lesion reference of ``scan`` (rules in the module docstring) on the 2 mm grid."""
    inner = ndi.binary_erosion(brain, iterations=1)
    flair_high = (flair / np.median(flair[brain]) > TUMOUR_FLAIR_RATIO) & inner
    if scan.lesion_type == "tumour":
        mask = _largest(flair_high)
    else:
        dark, count = ndi.label((t1 / np.median(t1[brain]) < STROKE_T1_RATIO) & inner)
        sizes = ndi.sum(np.ones_like(dark), dark, range(1, count + 1))
        centres = ndi.mean(x_mm, dark, range(1, count + 1))
        eligible = [k + 1 for k in np.argsort(sizes)[::-1] if abs(centres[k]) >= MIDLINE_MM]
        mask = dark == eligible[0]
        rim, rim_count = ndi.label(flair_high)
        touching = np.unique(rim[ndi.binary_dilation(mask, iterations=2) & (rim > 0)])
        mask |= np.isin(rim, touching[touching > 0])
    return np.stack([ndi.binary_fill_holes(section) for section in mask])


def _largest(mask: np.ndarray) -> np.ndarray:
    labels, count = ndi.label(mask)
    if count == 0:
        return mask
    return labels == 1 + int(np.argmax(ndi.sum(mask, labels, range(1, count + 1))))


def scan_patches(scan: LesionScan, scan_index: int) -> LesionPatches:
    """Every lesion patch of one scan (see the module docstring)."""
    grid = scan_slices(scan)
    mask, ratio = grid.lesion, grid.t1
    patches, masks = [], []
    for z in np.flatnonzero(mask.sum((1, 2)) >= MIN_SLICE_VOXELS):
        centre = tuple(int(c) for c in np.argwhere(mask[z]).mean(0).round())
        window = patch_window(centre)
        if mask[z][window].sum() == mask[z].sum():
            patches.append(ratio[z][window])
            masks.append(mask[z][window])
    count = len(patches)
    held_out = np.arange(count) >= count - max(1, int(round(HELD_OUT_FRACTION * count)))
    return LesionPatches(np.asarray(patches, np.float32).reshape(-1, PATCH_SIZE, PATCH_SIZE),
                         np.asarray(masks, bool).reshape(-1, PATCH_SIZE, PATCH_SIZE),
                         np.full(count, scan.lesion_type), np.full(count, scan_index), held_out)


def collect_patches(scans: list[LesionScan]) -> LesionPatches:
    parts = [scan_patches(scan, i) for i, scan in enumerate(scans)]
    return LesionPatches(*(np.concatenate([getattr(p, f) for p in parts])
                           for f in ("intensity", "mask", "lesion_type", "scan", "held_out")))

"""Measure, on any input, the properties a model card's domain is stated in.

Everything is read from the image itself with general image physics, on a copy resampled to a
coarse working grid (:data:`WORKING_SPACING_MM`; the traits are millimetre-scale, and this keeps
the check well under a second on a 1 mm head):

- modality: CT has air at about −1000 HU (or, in offset units, soft tissue whose densities differ
  by a few per cent of their level); MR magnitudes are non-negative with tissue contrast of tens
  of per cent;
- skull: a head is several litres of tissue around a ~1.3 L brain, and a skull shows as a shell
  below the skin — dense bone above 300 HU on CT, a signal void between scalp and brain on MR;
  a brain-extracted image is brain-sized with brain tissue right at its edge;
- contrast: :mod:`medsynth.domain.tissues` on the brain part (the top of the head, below the
  skull shell);
- SNR (tissue median over the noise read from neighbouring-voxel differences) and bias (spread of
  white-matter level between the eight octants of the brain).
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.domain.report import DomainReport
from medsynth.domain.tissues import classify_contrast
from medsynth.qa import check_volume
from medsynth.tasks.masks import foreground_mask_array

WORKING_SPACING_MM = 2.0
#: HU above which CT tissue is dense bone.
BONE_HU = 300.0
#: Below this share of dense bone among a CT's tissue voxels there is no skull.
CT_SKULL_BONE_SHARE = 0.03
#: An adult brain with cerebellum is 1.0–1.8 L; a head around it several litres. Above this
#: tissue volume (mL) the image holds more than a brain.
BRAIN_ONLY_MAX_ML = 2200.0
#: Skin-to-brain band of a head (mm): scalp and skull lie between these depths below the outline.
SHELL_DEPTH_MM = (2.0, 12.0)
#: MR voxels darker than this fraction of the tissue median are signal voids (cortical bone, air).
VOID_FRACTION = 0.2
#: Share of signal-void voxels in the shell band above which an MR shows a skull.
SKULL_VOID_SHARE = 0.1
#: The brain part for the contrast: depth below the outline (mm) with and without a skull, and the
#: span (mm) below the top of the head (cerebrum; excludes face, skull base and neck).
BRAIN_DEPTH_MM = {True: 16.0, False: 3.0}
BRAIN_SPAN_MM = (8.0, 90.0)
#: Offset-unit CT (no air value): soft tissue IQR below this fraction of its median.
CT_OFFSET_MAX_RELATIVE_IQR = 0.08


def measure_domain(image: sitk.Image) -> DomainReport:
    """The :class:`DomainReport` of ``image`` (not modified); raises ``InputError`` for an unusable volume."""
    check_volume(image)
    spacing = tuple(float(s) for s in image.GetSpacing())
    fov = tuple(float(n * s) for n, s in zip(image.GetSize(), spacing))
    work = _working_copy(image)
    voxels = sitk.GetArrayFromImage(work).astype(np.float32)
    spacing_zyx = (WORKING_SPACING_MM,) * 3
    inside = foreground_mask_array(voxels, spacing_zyx, 0.0, 0.5)
    depth = ndi.distance_transform_edt(inside, sampling=spacing_zyx).astype(np.float32)
    tissue_ml = float(inside.sum()) * WORKING_SPACING_MM ** 3 / 1000.0
    evidence: dict[str, object] = {"tissue_ml": round(tissue_ml, 1)}
    modality = _modality(voxels, inside, evidence)
    if modality == "CT":
        skull = _ct_skull(voxels, inside, evidence)
        return DomainReport("CT", "CT", 0.95, skull, 0.9, fov, spacing, None, None, evidence)
    skull, skull_confidence = _mr_skull(voxels, inside, depth, tissue_ml, evidence)
    brain = _brain_part(work, inside, depth, skull)
    call = classify_contrast(voxels, brain, WORKING_SPACING_MM)
    evidence.update(call.evidence)
    snr = _snr(voxels, brain)
    bias = _bias(voxels, brain & (np.abs(voxels - call.white_level) < 0.2 * abs(call.white_level)))
    return DomainReport("MR", call.contrast, call.confidence, skull, skull_confidence, fov, spacing, snr, bias, evidence)


def _working_copy(image: sitk.Image) -> sitk.Image:
    """``image`` resampled (linear) onto an isotropic :data:`WORKING_SPACING_MM` grid covering it."""
    size = [max(4, int(round(n * s / WORKING_SPACING_MM))) for n, s in zip(image.GetSize(), image.GetSpacing())]
    reference = sitk.Image(size, sitk.sitkFloat32)
    reference.SetSpacing((WORKING_SPACING_MM,) * 3)
    reference.SetDirection(image.GetDirection())
    corner = image.TransformContinuousIndexToPhysicalPoint(tuple(-0.5 for _ in range(3)))
    start = np.asarray(corner) + np.asarray(image.GetDirection()).reshape(3, 3) @ np.full(3, WORKING_SPACING_MM / 2)
    reference.SetOrigin(tuple(float(c) for c in start))
    minimum = float(sitk.GetArrayViewFromImage(image).min())
    return sitk.Resample(sitk.Cast(image, sitk.sitkFloat32), reference, sitk.Transform(), sitk.sitkLinear, minimum)


def _modality(voxels: np.ndarray, inside: np.ndarray, evidence: dict) -> str:
    air = float(np.mean((voxels > -1100) & (voxels < -850)))
    evidence["air_hu_share"] = round(air, 3)
    if voxels.min() >= -3100 and air > 0.05:
        return "CT"
    tissue = voxels[inside]
    p25, p50, p75 = np.percentile(tissue, [25, 50, 75])
    relative_iqr = float((p75 - p25) / max(abs(p50), 1e-6))
    evidence["tissue_relative_iqr"] = round(relative_iqr, 3)
    return "CT" if relative_iqr < CT_OFFSET_MAX_RELATIVE_IQR else "MR"


def _ct_skull(voxels: np.ndarray, inside: np.ndarray, evidence: dict) -> bool:
    tissue = voxels[inside]
    level = BONE_HU if voxels.min() < -500 else np.median(tissue) * 1.25
    share = float(np.mean(tissue > level))
    evidence["bone_share"] = round(share, 4)
    return share > CT_SKULL_BONE_SHARE


def _mr_skull(voxels: np.ndarray, inside: np.ndarray, depth: np.ndarray, tissue_ml: float,
              evidence: dict) -> tuple[bool, float]:
    """Skull present when the tissue is more than a brain's volume; surer when a signal-void shell
    (cortical bone) lies below the skin as well, or when neither sign is there."""
    band = inside & (depth >= SHELL_DEPTH_MM[0]) & (depth <= SHELL_DEPTH_MM[1])
    level = VOID_FRACTION * float(np.median(voxels[inside]))
    void_share = float(np.mean(voxels[band] < level)) if band.any() else 0.0
    evidence["shell_void_share"] = round(void_share, 3)
    skull = tissue_ml > BRAIN_ONLY_MAX_ML
    by_volume = float(np.clip(abs(np.log(tissue_ml / BRAIN_ONLY_MAX_ML)) / np.log(1.5), 0.0, 1.0))
    agrees = (void_share > SKULL_VOID_SHARE) == skull
    return skull, round(min(1.0, 0.5 + 0.4 * by_volume + (0.1 if agrees else 0.0)), 2)


def _brain_part(work: sitk.Image, inside: np.ndarray, depth: np.ndarray, skull: bool) -> np.ndarray:
    """Foreground deeper than :data:`BRAIN_DEPTH_MM` and within :data:`BRAIN_SPAN_MM` below the head's top."""
    superior = _superior_mm(work, inside.shape)
    top = float(superior[inside].max())
    region = inside & (depth >= BRAIN_DEPTH_MM[skull])
    region &= (superior <= top - BRAIN_SPAN_MM[0]) & (superior >= top - BRAIN_SPAN_MM[1])
    return region if region.sum() > 500 else inside & (depth >= BRAIN_DEPTH_MM[False])


def _superior_mm(image: sitk.Image, shape_zyx: tuple[int, int, int]) -> np.ndarray:
    """Physical superior coordinate (mm, LPS +z) of every voxel, broadcastable over ``shape_zyx``."""
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    row = direction[2] * np.asarray(image.GetSpacing())
    k, j, i = np.ogrid[:shape_zyx[0], :shape_zyx[1], :shape_zyx[2]]
    return (image.GetOrigin()[2] + row[0] * i + row[1] * j + row[2] * k).astype(np.float32)


def _snr(voxels: np.ndarray, brain: np.ndarray) -> float:
    """Tissue median over the noise sd read from neighbour differences (MAD, robust to edges)."""
    differences = np.diff(voxels, axis=2)[brain[:, :, 1:] & brain[:, :, :-1]]
    noise = 1.4826 * float(np.median(np.abs(differences - np.median(differences)))) / np.sqrt(2.0)
    return float(np.median(voxels[brain]) / max(noise, 1e-6))


def _bias(voxels: np.ndarray, white: np.ndarray) -> float:
    """Spread (max − min over mean) of white matter's median intensity (voxels near its level)
    between the eight octants of the brain: a receive-coil bias field brightens one side."""
    coords = np.argwhere(white)
    levels = voxels[white]
    octant = ((coords > coords.mean(axis=0)) * np.array([4, 2, 1])).sum(axis=1)
    medians = [float(np.median(levels[octant == k])) for k in range(8) if np.sum(octant == k) >= 20]
    if len(medians) < 2:
        return float("nan")
    return float((max(medians) - min(medians)) / max(float(np.mean(medians)), 1e-6))

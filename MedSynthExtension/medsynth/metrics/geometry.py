"""Geometry of a synthetic CT: do the structures a planner contours sit where they sit on the real CT?

SynthRAD 2025 scores a synthetic CT on the overlap of structures segmented on CT and sCT. Without a
segmentation network, the structures here come from fixed Hounsfield thresholds that every CT
physicist recognises (they are textbook values, not fitted to any data set):

==============  ===========================================================================
structure       rule
==============  ===========================================================================
body            HU > -500, largest 26-connected component, holes filled slice by slice
bone            HU > 250 inside the body
air cavities    HU < -400 inside the body (sinuses, airways, ear canals)
==============  ===========================================================================

User segmentations (label volumes on the same grid) are compared label by label.

Metrics (per structure):

- **Dice** = 2|A ∩ B| / (|A| + |B|); 1.0 when both are empty (nothing to disagree about).
- **HD95** (mm): the surface of a mask is its voxels with a face-neighbour outside it; the edge of
  the field of view is not a surface (a body cut by the scan's edge has no boundary there). With
  d(a, B) the Euclidean distance (in mm, voxel spacing applied) from the centre of surface voxel a to
  the nearest surface voxel centre of B, HD95 = max(P95{d(a, B)}, P95{d(b, A)}) — the convention of
  medpy and of MONAI's ``compute_hausdorff_distance(percentile=95)``. Undefined (NaN) when exactly
  one mask is empty, 0 when both are.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from medsynth.metrics._inputs import ArrayOrImage, require_finite, to_arrays

#: HU above which a voxel is inside the patient (between air, -1000, and fat, about -100).
BODY_THRESHOLD_HU = -500.0
#: HU above which a voxel inside the body is bone (above soft tissue and contrast-free blood).
BONE_THRESHOLD_HU = 250.0
#: HU below which a voxel inside the body is an air cavity.
AIR_THRESHOLD_HU = -400.0
#: Percentile of the surface distances reported as the robust Hausdorff distance.
HAUSDORFF_PERCENTILE = 95.0


@dataclass(frozen=True)
class StructureAgreement:
    """Agreement of one structure between CT and sCT."""

    name: str
    dice: float
    hd95_mm: float
    volume_ct_ml: float
    volume_sct_ml: float

    def as_dict(self) -> dict[str, float | str]:
        """Plain dict for JSON output."""
        return asdict(self)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient of two binary masks (``> 0``); 1.0 when both are empty."""
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    total = int(a.sum()) + int(b.sum())
    if total == 0:
        return 1.0
    return 2.0 * int(np.logical_and(a, b).sum()) / total


def surface(mask: np.ndarray) -> np.ndarray:
    """Voxels of ``mask`` with a face-neighbour outside it; the array's edge does not count."""
    mask = np.asarray(mask) > 0
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=structure, border_value=1)


def _directed_distances(from_surface: np.ndarray, to_surface: np.ndarray, spacing: Sequence[float]) -> np.ndarray:
    """Distances (mm) from every voxel of ``from_surface`` to the nearest voxel of ``to_surface``."""
    distance_map = ndimage.distance_transform_edt(~to_surface, sampling=spacing)
    return distance_map[from_surface]


def hd95(a: np.ndarray, b: np.ndarray, spacing: Sequence[float]) -> float:
    """95th-percentile symmetric Hausdorff distance (mm) of two binary masks (module docstring).

    ``spacing`` is the voxel size per array axis (numpy order: z, y, x for SimpleITK arrays).
    """
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    if len(spacing) != a.ndim:
        raise ValueError(f"spacing has {len(spacing)} values for a {a.ndim}-D mask")
    if not a.any() and not b.any():
        return 0.0
    if not a.any() or not b.any():
        return math.nan
    sa, sb = surface(a), surface(b)
    if not sa.any() or not sb.any():
        # A mask filling the whole field of view has no surface; distances to it are undefined.
        return math.nan
    forward = np.percentile(_directed_distances(sa, sb, spacing), HAUSDORFF_PERCENTILE)
    backward = np.percentile(_directed_distances(sb, sa, spacing), HAUSDORFF_PERCENTILE)
    return float(max(forward, backward))


def body_mask(ct_hu: np.ndarray) -> np.ndarray:
    """Body outline of a CT (module docstring): threshold, largest component, slice-wise hole filling."""
    above = np.asarray(ct_hu) > BODY_THRESHOLD_HU
    labels, count = ndimage.label(above, structure=np.ones((3,) * above.ndim, dtype=bool))
    if count == 0:
        return above
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    body = labels == int(np.argmax(sizes))
    if body.ndim == 3:
        return np.stack([ndimage.binary_fill_holes(s) for s in body])
    return ndimage.binary_fill_holes(body)


def threshold_structures(ct_hu: np.ndarray) -> dict[str, np.ndarray]:
    """Body, bone and air cavities of one CT by the fixed thresholds of the module docstring."""
    ct_hu = np.asarray(ct_hu, dtype=np.float64)
    body = body_mask(ct_hu)
    return {
        "body": body,
        "bone": body & (ct_hu > BONE_THRESHOLD_HU),
        "air_cavities": body & (ct_hu < AIR_THRESHOLD_HU),
    }


def compare_structures(
    ct_structures: dict[str, np.ndarray], sct_structures: dict[str, np.ndarray], spacing: Sequence[float]
) -> list[StructureAgreement]:
    """Dice, HD95 and volumes for every structure named in both dicts (same grid, same spacing)."""
    voxel_ml = float(np.prod(spacing)) / 1000.0
    results = []
    for name in ct_structures:
        if name not in sct_structures:
            continue
        a, b = ct_structures[name] > 0, sct_structures[name] > 0
        results.append(
            StructureAgreement(
                name=name,
                dice=dice(a, b),
                hd95_mm=hd95(a, b, spacing),
                volume_ct_ml=int(a.sum()) * voxel_ml,
                volume_sct_ml=int(b.sum()) * voxel_ml,
            )
        )
    return results


def label_structures(labels: np.ndarray) -> dict[str, np.ndarray]:
    """One binary mask per non-zero label value of a segmentation, named ``label_<value>``."""
    labels = np.asarray(labels)
    return {f"label_{int(v)}": labels == v for v in np.unique(labels) if v != 0}


def evaluate_geometry(
    ct: ArrayOrImage,
    sct: ArrayOrImage,
    spacing: Sequence[float] | None = None,
    ct_segmentation: ArrayOrImage | None = None,
    sct_segmentation: ArrayOrImage | None = None,
) -> list[StructureAgreement]:
    """Agreement of the threshold structures of CT and sCT, plus user segmentations when both given.

    ``spacing`` (mm per array axis, numpy order) is read from ``ct`` when it is a SimpleITK image;
    it must be given for arrays.
    """
    if spacing is None:
        if not isinstance(ct, sitk.Image):
            raise ValueError("spacing is required when the CT is a numpy array")
        spacing = tuple(reversed(ct.GetSpacing()))
    volumes: dict[str, ArrayOrImage] = {"ct": ct, "sct": sct}
    if (ct_segmentation is None) != (sct_segmentation is None):
        raise ValueError("give segmentations for both CT and sCT, or for neither")
    if ct_segmentation is not None:
        volumes.update(ct_segmentation=ct_segmentation, sct_segmentation=sct_segmentation)
    arrays = to_arrays(volumes)
    require_finite("ct", arrays["ct"])
    require_finite("sct", arrays["sct"])
    results = compare_structures(threshold_structures(arrays["ct"]), threshold_structures(arrays["sct"]), spacing)
    if ct_segmentation is not None:
        results += compare_structures(
            label_structures(arrays["ct_segmentation"]), label_structures(arrays["sct_segmentation"]), spacing
        )
    return results

"""Foreground ("body" or "head") masks computed from the image itself.

Why: a synthetic CT must be air outside the patient and tissue inside, and the outline of the
patient is best taken from the MR being converted, not from an atlas (an atlas head never has
the patient's shape). The recipe is general, not head-specific: Otsu threshold, largest
connected component, hole filling in 3D and slice by slice along every axis (a head whose neck
is cut by the field of view is not a closed surface in 3D), then an optional safety margin in
millimetres so that partial-volume voxels at the skin are inside.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.errors import InputError

#: Intensities above this percentile are clipped before Otsu, so a few very bright voxels
#: (fat, vessels, artefacts) do not push the threshold up into the tissue.
_OTSU_CLIP_PERCENTILE = 99.5


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of ``values`` (any shape), maximising the between-class variance."""
    values = np.asarray(values, dtype=np.float64).ravel()
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    sum_low = np.cumsum(counts * centres)
    mean_low = sum_low / np.maximum(weight_low, 1)
    mean_high = (sum_low[-1] - sum_low) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(edges[1:][int(np.argmax(between[:-1]))])


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 26-connected component of a boolean mask (empty stays empty)."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3, 3), bool))
    if count <= 1:
        return labels > 0
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill holes in 3D, then in every 2D slice along each of the three axes."""
    filled = ndi.binary_fill_holes(mask)
    for axis in range(3):
        moved = np.moveaxis(filled, axis, 0)
        for index in range(moved.shape[0]):
            if moved[index].any():
                moved[index] = ndi.binary_fill_holes(moved[index])
    return filled


def foreground_mask_array(voxels: np.ndarray, spacing_zyx: tuple[float, float, float],
                          margin_mm: float = 0.0, threshold_fraction: float = 1.0) -> np.ndarray:
    """Boolean foreground of a (z, y, x) array: Otsu × ``threshold_fraction``, largest component,
    holes filled, grown by ``margin_mm`` (Euclidean distance in mm, anisotropic spacing honoured).

    ``threshold_fraction`` < 1 lowers the threshold towards the background level, which keeps
    dark skin and scalp voxels inside. Raises :class:`InputError` when nothing is above it.
    """
    data = np.asarray(voxels, dtype=np.float32)
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        raise InputError("The image has no finite voxels; no foreground mask can be computed.")
    sample = finite[:: max(1, finite.size // 500_000)]
    low = float(sample.min())
    if float(sample.max()) <= low:
        raise InputError("The image is constant: there is no foreground to separate from the background.")
    clipped = np.minimum(sample, np.percentile(sample, _OTSU_CLIP_PERCENTILE))
    threshold = low + threshold_fraction * (otsu_threshold(clipped) - low)
    mask = largest_component(data > threshold)
    if not mask.any():
        raise InputError("No foreground was found in the image (every voxel is at background level).")
    mask = fill_holes(mask)
    if margin_mm > 0:
        distance = ndi.distance_transform_edt(~mask, sampling=spacing_zyx)
        mask = distance <= margin_mm
    return mask


def head_mask(image: sitk.Image, margin_mm: float = 4.0, threshold_fraction: float = 0.5) -> sitk.Image:
    """uint8 mask (1 = inside the head/body, grown by ``margin_mm``) on ``image``'s grid.

    The defaults keep the whole scalp and its partial-volume edge inside: half the Otsu
    threshold (relative to the darkest voxel), then a 4 mm margin. ``image`` is not modified.
    """
    voxels = sitk.GetArrayViewFromImage(image)
    spacing_zyx = tuple(float(s) for s in reversed(image.GetSpacing()))
    mask = foreground_mask_array(voxels, spacing_zyx, margin_mm, threshold_fraction)
    out = sitk.GetImageFromArray(mask.astype(np.uint8))
    out.CopyInformation(image)
    return out


#: A user's mask must lie mostly inside the image's field of view and on its head: below these fractions it
#: belongs to another image or another space (a template-space brain mask, another patient's outline).
MIN_MASK_INSIDE_FRACTION = 0.5


def mask_on_grid(mask: sitk.Image, image: sitk.Image, head: np.ndarray, what: str = "mask", image_name: str = "MR",
                 remedy: str = "Give a mask drawn on this MR (or none).") -> sitk.Image:
    """``mask`` (any voxel > 0 counts) as uint8 on ``image``'s grid (resampled, nearest neighbour, when
    grids differ), refused when it is empty or does not belong to this image (mostly outside its field
    of view or off its ``head``, a boolean (z, y, x) array on ``image``'s grid). ``what`` and
    ``image_name`` name the two in messages ("label map", "T1")."""
    if mask.GetDimension() != 3:
        raise InputError(f"The {what} is {mask.GetDimension()}D; it must be a 3D volume like the {image_name}.")
    own = sitk.GetArrayViewFromImage(mask) > 0
    if not own.any():
        raise InputError(f"The {what} is empty: none of its voxels is above 0. {remedy}")
    same = (mask.GetSize() == image.GetSize() and np.allclose(mask.GetSpacing(), image.GetSpacing(), rtol=1e-4)
            and np.allclose(mask.GetOrigin(), image.GetOrigin(), atol=1e-3 * min(image.GetSpacing()))
            and np.allclose(mask.GetDirection(), image.GetDirection(), atol=1e-4))
    if same:
        on_grid = sitk.GetImageFromArray(own.astype(np.uint8))
        on_grid.CopyInformation(image)
    else:
        on_grid = sitk.Resample(sitk.Cast(mask > 0, sitk.sitkUInt8), image, sitk.Transform(), sitk.sitkNearestNeighbor, 0)
    voxels = sitk.GetArrayViewFromImage(on_grid) > 0
    if not voxels.any():
        raise InputError(f"The {what} is empty on the {image_name}'s grid (no voxel > 0 where the {image_name} is); "
                         f"check that it belongs to this {image_name}.")
    own_ml = float(np.count_nonzero(own)) * float(np.prod(mask.GetSpacing())) / 1000
    kept_ml = float(np.count_nonzero(voxels)) * float(np.prod(image.GetSpacing())) / 1000
    if kept_ml < MIN_MASK_INSIDE_FRACTION * own_ml:
        raise InputError(f"Only {kept_ml:.0f} of the {what}'s {own_ml:.0f} mL lie inside the {image_name}'s field of "
                         f"view: the {what} belongs to another image or space. {remedy}")
    on_head = float(np.count_nonzero(voxels & head)) / float(np.count_nonzero(voxels))
    if on_head < MIN_MASK_INSIDE_FRACTION:
        raise InputError(f"Only {100 * on_head:.0f} % of the {what} lies on the head in this {image_name}: the {what} "
                         f"belongs to another image or space. {remedy}")
    return on_grid

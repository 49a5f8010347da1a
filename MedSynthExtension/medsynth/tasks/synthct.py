"""Synthetic CT from a head MRI: the ONNX generator plus what a CT needs around it.

``synth_ct(mr)`` checks the input (a 3D MR volume with a head-sized field of view), runs the
card's generator through :func:`medsynth.runtime.run_generator`, writes air (the card's
background, −1024 HU) outside the head mask — computed from the MR itself unless one is given —
clips to the card's HU range, and optionally estimates a voxel-wise uncertainty from test-time
augmentation. The input image is never modified.

The body outline comes from the MR itself: a voxel the MR shows as part of the head is not air.
Within :data:`SCALP_DEPTH_MM` of the outline's surface (skin, scalp, skull) the synthetic CT is
therefore never darker than :data:`SCALP_FLOOR_HU` (fat); air cavities deeper inside (sinuses,
airways, mastoid cells) are left to the network. Without this, a network trained on other head
shapes can put air in a rim of real scalp wherever the outline differs from what it saw.

Test-time augmentation (TTA) runs the network on transformed copies of the input (left/right
mirror, a darker and a brighter gamma of the MR intensities), maps each prediction back, and
reports the mean as the synthetic CT and the standard deviation (HU) as the uncertainty: high
where the network's answer depends on contrast or side, e.g. at bone/air borders.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.domain import enforce_domain
from medsynth.errors import InputError
from medsynth.models.registry import ModelEntry, ModelRegistry
from medsynth.provenance import Provenance
from medsynth.qa import check_volume
from medsynth.runtime.generate import check_modality, run_generator
from medsynth.runtime.onnx_model import OnnxGenerator, generator_for
from medsynth.tasks.masks import foreground_mask_array, mask_on_grid

TASK = "synth-ct"
#: Physical extent (mm) every axis of the input must have: a head MR is 100–300 mm across;
#: outside this range the image is a slab, a detail view or a body scan, not what the models saw.
FIELD_OF_VIEW_RANGE_MM = (64.0, 400.0)
#: Otsu fraction of the MR's body outline (see :func:`medsynth.tasks.masks.head_mask`): well below
#: the half-Otsu default, so dark skin and partial-volume voxels at the edge of the head are inside
#: (on sharp head MRs the outline hardly moves between 0.2 and 0.5; on smooth ones it matters).
OUTLINE_THRESHOLD_FRACTION = 0.25
#: The head mask is the outline grown by this margin; outside it the synthetic CT is air.
HEAD_MASK_MARGIN_MM = 6.0
#: Inside the outline, within this depth of its surface, HU are at least the floor (fat).
SCALP_DEPTH_MM = 10.0
SCALP_FLOOR_HU = -100.0
#: Test-time augmentations in the order they are used: (mirror left/right, gamma on intensities).
TTA_VARIANTS: Sequence[tuple[bool, float]] = ((False, 1.0), (True, 1.0), (False, 0.85), (True, 1.15))

ProgressCallback = Callable[[float], None]
CancelCheck = Callable[[], bool]


@dataclass
class SynthCTResult:
    """Synthetic CT (HU, float32, on the input's grid), the mask used, optional uncertainty
    (standard deviation across TTA passes, HU; 0 outside the mask) and provenance."""

    ct: sitk.Image
    mask: sitk.Image
    uncertainty: sitk.Image | None
    provenance: Provenance
    seconds: float
    passes: int


def check_field_of_view(image: sitk.Image, limits_mm: tuple[float, float] = FIELD_OF_VIEW_RANGE_MM) -> None:
    """Refuse an image whose physical extent along any axis is outside ``limits_mm``."""
    extent = np.asarray(image.GetSize(), float) * np.asarray(image.GetSpacing(), float)
    low, high = limits_mm
    if np.any(extent < low) or np.any(extent > high):
        shown = " × ".join(f"{e:.0f}" for e in extent)
        raise InputError(f"The MR covers {shown} mm; the synthetic-CT model was trained on whole heads "
                         f"({low:.0f}–{high:.0f} mm along every axis). Give a head MR that covers the whole head "
                         "(not a thin slab, a detail view or a body scan).")


def synth_ct(mr: sitk.Image, model: ModelEntry | OnnxGenerator | str | None = None, mask: sitk.Image | None = None,
             uncertainty: bool = False, tta_passes: int | None = None, progress: ProgressCallback | None = None,
             cancelled: CancelCheck | None = None, input_description: str = "",
             registry: ModelRegistry | None = None, scalp_floor_hu: float | None = SCALP_FLOOR_HU,
             allow_outside: bool = False) -> SynthCTResult:
    """Synthetic CT of ``mr`` (see module docstring).

    ``tta_passes``: number of TTA passes (1 … 4); defaults to 4 with ``uncertainty`` and 1
    without. ``scalp_floor_hu``: the lowest HU near the skin inside the MR's outline (None: raw
    network output there). ``allow_outside``: run on an input outside the card's domain, stamping
    every output (:func:`medsynth.domain.enforce_domain`). Raises :class:`InputError` for an unusable input and
    :class:`ModelError` for a missing or tampered model.
    """
    started = time.perf_counter()
    check_volume(mr, "MR")
    check_field_of_view(mr)
    generator = generator_for(model, TASK, "synthetic-CT", registry)
    check_modality(mr, generator.card.modality)
    domain = enforce_domain(mr, generator.card, allow_outside)
    passes = tta_passes if tta_passes is not None else (len(TTA_VARIANTS) if uncertainty else 1)
    if not 1 <= passes <= len(TTA_VARIANTS):
        raise InputError(f"tta_passes must be between 1 and {len(TTA_VARIANTS)}, got {passes}.")
    if uncertainty and passes < 2:
        raise InputError("An uncertainty map needs at least 2 test-time-augmentation passes.")
    outline = foreground_mask_array(sitk.GetArrayViewFromImage(mr), _spacing_zyx(mr), 0.0, OUTLINE_THRESHOLD_FRACTION)
    body = mask_on_grid(mask, mr, outline) if mask is not None else _grown(outline, mr)
    inside = sitk.GetArrayViewFromImage(body) > 0
    spec = generator.card.outputs[0]
    predictions = []
    provenance = None
    for index, (mirror, gamma) in enumerate(TTA_VARIANTS[:passes]):
        step = _sub_progress(progress, index, passes)
        result = run_generator(generator, _augment(mr, mirror, gamma), progress=step, cancelled=cancelled,
                               input_description=input_description)
        provenance = provenance or result.provenance
        predictions.append(sitk.GetArrayFromImage(_unmirror(result.image, mr, mirror)))
    stack = np.stack(predictions).astype(np.float32)
    background = np.float32(spec.background_value)
    ct = np.where(inside, stack.mean(axis=0), background)
    if scalp_floor_hu is not None:
        near_skin = outline & (ndi.distance_transform_edt(outline, sampling=_spacing_zyx(mr)) <= SCALP_DEPTH_MM)
        ct = np.where(near_skin & inside, np.maximum(ct, np.float32(scalp_floor_hu)), ct)
    if spec.clip is not None:
        np.clip(ct, spec.clip[0], spec.clip[1], out=ct)
    spread = np.where(inside, stack.std(axis=0), 0.0).astype(np.float32) if uncertainty else None
    parameters = dict(provenance.parameters, tta_passes=passes, mask="given" if mask is not None else "computed from the MR",
                      background_hu=float(background), scalp_floor_hu=scalp_floor_hu)
    provenance = dataclasses.replace(provenance, parameters=parameters, outside_domain=domain.stamp)
    return SynthCTResult(_like(ct, mr, provenance), body, None if spread is None else _like(spread, mr, provenance),
                         provenance, time.perf_counter() - started, passes)


def _spacing_zyx(image: sitk.Image) -> tuple[float, float, float]:
    return tuple(float(s) for s in reversed(image.GetSpacing()))  # type: ignore[return-value]


def _grown(outline: np.ndarray, reference: sitk.Image) -> sitk.Image:
    """The head mask: the MR's outline grown by :data:`HEAD_MASK_MARGIN_MM`, as uint8 on the MR grid."""
    distance = ndi.distance_transform_edt(~outline, sampling=_spacing_zyx(reference))
    mask = sitk.GetImageFromArray((distance <= HEAD_MASK_MARGIN_MM).astype(np.uint8))
    mask.CopyInformation(reference)
    return mask


def _left_right_axis(image: sitk.Image) -> int:
    """Index axis (x=0, y=1, z=2) closest to the patient's left/right direction."""
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    return int(np.argmax(np.abs(direction[0])))


def _mirrored(image: sitk.Image, axis: int) -> sitk.Image:
    """The voxels reversed along index ``axis`` on the same grid: the anatomy mirrored in space.

    (``sitk.Flip`` would also flip the direction cosines, leaving the anatomy where it was.)
    """
    voxels = np.flip(sitk.GetArrayFromImage(image), axis=2 - axis)
    mirrored = sitk.GetImageFromArray(np.ascontiguousarray(voxels))
    mirrored.CopyInformation(image)
    return mirrored


def _augment(mr: sitk.Image, mirror: bool, gamma: float) -> sitk.Image:
    """A new image: optionally mirrored left/right, intensities optionally through a gamma curve."""
    image = mr
    if gamma != 1.0:
        voxels = sitk.GetArrayFromImage(mr).astype(np.float32)
        low, high = float(voxels.min()), float(voxels.max())
        scaled = np.power((voxels - low) / (high - low), np.float32(gamma)) * (high - low) + low
        image = sitk.GetImageFromArray(scaled.astype(np.float32))
        image.CopyInformation(mr)
    return _mirrored(image, _left_right_axis(mr)) if mirror else image


def _unmirror(prediction: sitk.Image, mr: sitk.Image, mirror: bool) -> sitk.Image:
    return _mirrored(prediction, _left_right_axis(mr)) if mirror else prediction


def _sub_progress(progress: ProgressCallback | None, index: int, passes: int) -> ProgressCallback | None:
    if progress is None:
        return None
    return lambda fraction: progress((index + fraction) / passes)


def _like(voxels: np.ndarray, reference: sitk.Image, provenance: Provenance) -> sitk.Image:
    image = sitk.GetImageFromArray(voxels.astype(np.float32))
    image.CopyInformation(reference)
    for key, value in provenance.as_attributes().items():
        image.SetMetaData(key, value)
    return image

"""Future-timepoint brain MRI: a patient's T1 predicted ``years`` ahead, with where and how much
tissue is expected to be lost.

``predict_future(t1, age=72, sex="F", diagnosis="MCI", years=3)`` runs a ``future-mri`` model
(:func:`medsynth.runtime.run_generator` on the card's grid) and turns its output into a
deformation (:mod:`medsynth.tasks.future_field`).

Contract of a ``future-mri`` model (its card's outputs, in order): ``change_source``, the local
volume change (%) imposed over the interval — zero at ``years = 0`` and proportional to ``years``
— then ``p_<region>`` for every region of :data:`~medsynth.tasks.future_regions.REGION_NAMES`.
Because the change is proportional to the interval, the network runs once, at the longest
interval asked for, and shorter intervals scale its change. Then, for each interval:

1. the external CSF takes up the brain's net change (the skull does not move);
2. the Poisson velocity is integrated into a diffeomorphic warp of the baseline (no folding; the
   identity, exactly, at ``years = 0``; change growing steadily with the interval);
3. the predicted T1 is the input pulled back through it, on the input's own grid;
4. the change map is the local tissue loss in % (``100 (1 − follow-up/baseline volume)``,
   positive = shrinkage) carried with the tissue onto the predicted image;
5. regional volumes (baseline and predicted, % per year) are measured on the prediction by
   summing the volume ratio over baseline regions: the user's MUSE/DLMUSE parcellation when
   given, else the model's own regions, each voxel in its most probable region (the hard
   regions measure small structures far better than probability weights, which spread a 2 mm
   hippocampus over its neighbours); ``measured_on`` says which.

Refused with an :class:`InputError` that says what to do: out-of-range age/years or unknown
sex/diagnosis (from the card), a 2D/4D/broken volume, a CT, and an image whose contrast is not
T1-like (:mod:`medsynth.tasks.future_qa`). The input image and labels are never modified.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.domain import enforce_domain
from medsynth.errors import Cancelled, InputError
from medsynth.geometry import plan_model_grid, to_input_grid, to_model_grid
from medsynth.models.registry import ModelEntry, ModelRegistry
from medsynth.provenance import Provenance
from medsynth.qa import check_volume
from medsynth.runtime.conditioning import encode_conditions
from medsynth.runtime.generate import check_modality, run_generator
from medsynth.runtime.onnx_model import OnnxGenerator, generator_for
from medsynth.tasks.future_field import (close_volume_budget, displacement_transform, exponentiate,
                                         velocity_from_change, volume_ratio, warp)
from medsynth.tasks.future_qa import check_t1_contrast, check_t1_intensity_profile
from medsynth.tasks.future_regions import (COMPENSATING_REGION, PROBABILITY_PREFIX, REGION_NAMES, group_labels,
                                           region_index)
from medsynth.tasks.future_volumes import VolumeTable, volume_table, volumes_from_labels
from medsynth.tasks.masks import head_mask, mask_on_grid

TASK = "future-mri"
#: The network output holding the change imposed over the interval (%).
CHANGE_OUTPUT = "change_source"
#: Share of the progress bar taken by the network (the rest: deformations and volumes).
_NETWORK_SHARE = 0.7

ProgressCallback = Callable[[float], None]
CancelCheck = Callable[[], bool]


@dataclass
class FuturePrediction:
    """One predicted timepoint on the input's grid: the T1 (float32) and the tissue-loss map (%)."""

    years: float
    image: sitk.Image
    tissue_loss: sitk.Image


@dataclass
class FutureResult:
    """Baseline (the input as float32, values unchanged), predictions by interval (ascending),
    regional volumes, which regions measured them, provenance and run time (s)."""

    baseline: sitk.Image
    predictions: tuple[FuturePrediction, ...]
    volumes: VolumeTable
    measured_on: str
    provenance: Provenance
    seconds: float

    def at(self, years: float) -> FuturePrediction:
        for prediction in self.predictions:
            if abs(prediction.years - years) < 1e-9:
                return prediction
        raise KeyError(f"no prediction at {years} years; predicted: {[p.years for p in self.predictions]}")

    @property
    def final(self) -> FuturePrediction:
        """The prediction at the longest interval."""
        return self.predictions[-1]



def predict_future(t1: sitk.Image, age: float, sex: str, diagnosis: str, years: float | Sequence[float],
                   labels: sitk.Image | None = None, model: ModelEntry | OnnxGenerator | str | None = None,
                   progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None,
                   input_description: str = "", registry: ModelRegistry | None = None,
                   allow_outside: bool = False) -> FutureResult:
    """Predict ``t1`` after each interval in ``years`` (see the module docstring).

    ``labels``: optional MUSE/DLMUSE parcellation of ``t1`` (any grid covering it) for the volume
    table. ``allow_outside``: run on an input outside the card's domain, stamping the outputs
    (:func:`medsynth.domain.enforce_domain`). Raises :class:`InputError` for unusable inputs, :class:`~medsynth.errors.ModelError` for a
    missing or tampered model, :class:`~medsynth.errors.Cancelled` when ``cancelled()`` turns true.
    """
    started = time.perf_counter()
    check_volume(t1, "T1")
    generator = generator_for(model, TASK, "future-MRI", registry)
    card = generator.card
    check_modality(t1, card.modality)
    domain = enforce_domain(t1, card, allow_outside)
    intervals = _intervals(years)
    longest = intervals[-1]
    for interval in intervals:
        encode_conditions(card, {"age": age, "sex": sex, "diagnosis": diagnosis, "years": interval})
    grouped_labels = _grouped_labels(labels, t1)
    if not allow_outside:
        check_t1_intensity_profile(t1)
    plan = plan_model_grid(t1, card.orientation, card.spacing_mm, card.field_of_view_mm)
    on_grid = to_model_grid(t1, plan, default_value=float(sitk.GetArrayViewFromImage(t1).min()))
    spacing = tuple(float(s) for s in reversed(on_grid.GetSpacing()))
    voxel_ml = float(np.prod(on_grid.GetSpacing())) / 1000.0
    run = run_generator(generator, on_grid, {"age": age, "sex": sex, "diagnosis": diagnosis, "years": longest},
                        _sub_progress(progress, 0.0, _NETWORK_SHARE), cancelled, input_description=input_description)
    arrays = {name: sitk.GetArrayFromImage(image) for name, image in run.images.items()}
    probabilities = np.stack([arrays[PROBABILITY_PREFIX + name] for name in REGION_NAMES])
    model_regions = probabilities.argmax(axis=0).astype(np.uint8)
    check_t1_contrast(sitk.GetArrayViewFromImage(on_grid), _contrast_regions(grouped_labels, labels, on_grid, model_regions),
                      voxel_ml)
    baseline = sitk.Cast(t1, sitk.sitkFloat32)
    baseline_ml = _volumes(grouped_labels, labels, model_regions, voxel_ml, on_grid, None)
    csf = probabilities[region_index(COMPENSATING_REGION)]
    predictions, predicted_ml = [], {}
    for number, interval in enumerate(intervals):
        if cancelled is not None and cancelled():
            raise Cancelled("The prediction was cancelled; no output was produced.")
        scale = interval / longest if longest > 0 else 0.0
        velocity = velocity_from_change(close_volume_budget(arrays[CHANGE_OUTPUT] * scale, csf), spacing)
        if not velocity.any():  # years = 0: exactly the input, exactly no change
            image, ratio, loss = sitk.Image(baseline), np.ones(velocity.shape[1:], np.float32), _zeros_like(t1)
        else:
            transform = displacement_transform(exponentiate(velocity, spacing), on_grid)
            image = warp(baseline, transform)
            ratio = volume_ratio(velocity, spacing)
            moved_loss = warp(_like(100.0 * (1.0 - ratio), on_grid), transform, default_value=0.0)
            loss = to_input_grid(moved_loss, t1, plan, "linear", 0.0)
        predictions.append(FuturePrediction(interval, image, loss))
        predicted_ml[interval] = _volumes(grouped_labels, labels, model_regions, voxel_ml, on_grid, ratio)
        if progress is not None:
            progress(_NETWORK_SHARE + (1.0 - _NETWORK_SHARE) * (number + 1) / len(intervals))
    measured_on = "labels" if labels is not None else "model regions"
    parameters = dict(run.provenance.parameters, years=list(intervals), regions=measured_on,
                      conditions={"age": age, "sex": sex, "diagnosis": diagnosis})
    return FutureResult(baseline, tuple(predictions), volume_table(baseline_ml, predicted_ml, measured_on), measured_on,
                        dataclasses.replace(run.provenance, parameters=parameters, outside_domain=domain.stamp),
                        time.perf_counter() - started)


def _intervals(years: float | Sequence[float]) -> tuple[float, ...]:
    values = [years] if np.isscalar(years) else list(years)
    if not values:
        raise InputError("Give at least one interval in years.")
    try:
        return tuple(sorted({float(value) for value in values}))
    except (TypeError, ValueError):
        raise InputError(f"years must be numbers, got {values!r}.") from None


def _grouped_labels(labels: sitk.Image | None, t1: sitk.Image) -> np.ndarray | None:
    """The labels grouped into the model's regions, after checking that they are this T1's: not
    empty, mostly inside its field of view and on its head (a map from another space is refused,
    not resampled into wrong volumes)."""
    if labels is None:
        return None
    mask_on_grid(labels, t1, sitk.GetArrayViewFromImage(head_mask(t1)) > 0, what="label map", image_name="T1",
                 remedy="Give the parcellation of this T1 (or none).")
    return group_labels(sitk.GetArrayViewFromImage(labels))


def _contrast_regions(grouped: np.ndarray | None, labels: sitk.Image | None, on_grid: sitk.Image,
                      model_regions: np.ndarray) -> dict[str, np.ndarray]:
    """White matter / cortex / ventricle masks on the model grid: from the labels when given, else
    from the model's most probable regions."""
    if grouped is not None:
        moved = sitk.Resample(labels, on_grid, sitk.Transform(), sitk.sitkNearestNeighbor, 0, labels.GetPixelID())
        model_regions = group_labels(sitk.GetArrayFromImage(moved))
    return {name: model_regions == region_index(name) for name in ("white_matter", "cortex", "ventricles")}


def _volumes(grouped: np.ndarray | None, labels: sitk.Image | None, model_regions: np.ndarray, voxel_ml: float,
             on_grid: sitk.Image, ratio: np.ndarray | None) -> dict[str, float]:
    """Region volumes (mL) at baseline (``ratio`` None) or after a change: over the labels' own grid
    when given (the ratio resampled onto it), else over the model's regions on the model grid."""
    if grouped is None:
        return volumes_from_labels(model_regions, voxel_ml, ratio)
    ratio_on_labels = None
    if ratio is not None:
        ratio_on_labels = sitk.GetArrayFromImage(sitk.Resample(_like(ratio, on_grid), labels, sitk.Transform(),
                                                               sitk.sitkLinear, 1.0, sitk.sitkFloat32))
    return volumes_from_labels(grouped, float(np.prod(labels.GetSpacing())) / 1000.0, ratio_on_labels)


def _like(values: np.ndarray, grid: sitk.Image) -> sitk.Image:
    image = sitk.GetImageFromArray(np.asarray(values, dtype=np.float32))
    image.CopyInformation(grid)
    return image


def _zeros_like(grid: sitk.Image) -> sitk.Image:
    return _like(np.zeros(sitk.GetArrayViewFromImage(grid).shape, np.float32), grid)


def _sub_progress(progress: ProgressCallback | None, start: float, end: float) -> ProgressCallback | None:
    if progress is None:
        return None
    return lambda fraction: progress(start + (end - start) * min(max(fraction, 0.0), 1.0))

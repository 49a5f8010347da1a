"""One call from an input image to synthetic output images on the input's grid.

check input → model grid → normalise → sliding-window inference → output scaling and clipping
→ back onto the input's grid → provenance. Every task (synthetic CT, future MRI, anomaly maps)
runs its network through :func:`run_generator`; what differs between tasks is only the card and
the task's own pre/post-processing around it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.geometry import plan_model_grid, to_input_grid, to_model_grid
from medsynth.normalize import normalize
from medsynth.provenance import Provenance
from medsynth.qa import check_not_inverted, check_volume, looks_like_ct
from medsynth.runtime.conditioning import encode_conditions
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.runtime.sliding_window import CancelCheck, ProgressCallback, sliding_window_predict


@dataclass
class GenerationResult:
    """Output images by card output name (each on the input's grid) and how they were made."""

    images: dict[str, sitk.Image]
    provenance: Provenance
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def image(self) -> sitk.Image:
        """The first (main) output."""
        return next(iter(self.images.values()))


def check_modality(image: sitk.Image, modality: str) -> None:
    """Refuse a CT given to an MR model and vice versa (intensity-based; see :func:`looks_like_ct`),
    and an MR whose intensities were negated or inverted (:func:`~medsynth.qa.check_not_inverted`)."""
    is_ct = looks_like_ct(image)
    if modality == "MR" and is_ct:
        raise InputError("The input looks like a CT (much of it near −1000 HU), but this model needs an MR image. "
                         "Select the MR volume as input.")
    if modality == "CT" and not is_ct:
        raise InputError("The input does not look like a CT in Hounsfield units, but this model needs a CT.")
    if modality == "MR":
        check_not_inverted(image, "MR")


def run_generator(
    model: OnnxGenerator,
    image: sitk.Image,
    conditions: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
    input_description: str = "",
    overlap: float | None = None,
    batch_size: int | None = None,
) -> GenerationResult:
    """Run ``model`` over ``image`` and return its outputs on the input's grid; ``image`` is not modified.

    ``overlap`` and ``batch_size`` override the card's values (more overlap: smoother, slower).
    """
    started = time.perf_counter()
    card = model.card
    check_volume(image)
    check_modality(image, card.modality)
    condition_vector = encode_conditions(card, conditions)
    plan = plan_model_grid(image, card.orientation, card.spacing_mm, card.field_of_view_mm)
    background = float(sitk.GetArrayViewFromImage(image).min())
    on_grid = to_model_grid(image, plan, default_value=background)
    network_input = normalize(sitk.GetArrayViewFromImage(on_grid), card.normalization)[None]
    settings = card.inference
    used_overlap = settings.overlap if overlap is None else overlap
    used_batch = settings.batch_size if batch_size is None else batch_size
    raw = sliding_window_predict(
        lambda batch: model.predict(batch, condition_vector), network_input, settings.patch_size,
        overlap=used_overlap, batch_size=used_batch, blend=settings.blend, sigma_scale=settings.sigma_scale,
        pad_value=settings.pad_value, progress=progress, cancelled=cancelled)
    del network_input
    images = {}
    for channel, spec in enumerate(card.outputs):
        values = raw[channel]  # scaled in place: the raw network output is ours, and volumes are large
        values *= np.float32(spec.scale)
        values += np.float32(spec.offset)
        if spec.clip is not None:
            np.clip(values, spec.clip[0], spec.clip[1], out=values)
        out = sitk.GetImageFromArray(values)
        out.CopyInformation(on_grid)
        images[spec.name] = to_input_grid(out, image, plan, spec.interpolation, spec.background_value)
    del raw
    provenance = Provenance(
        model_id=card.id, model_version=card.version, model_sha256=card.weights_sha256, task=card.task,
        parameters={"conditions": dict(conditions or {}), "overlap": used_overlap, "batch_size": used_batch,
                    "patch_size": list(settings.patch_size), "grid": plan.kind},
        input_description=input_description)
    return GenerationResult(images, provenance, time.perf_counter() - started)

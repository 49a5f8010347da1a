"""Anomaly maps: what in a brain T1 does not look like a healthy brain, and is the scan usable at all?

``anomaly_map(image, model)`` runs the whole chain on a scan (never modifying it):

1. QA of the input (3D, finite, MR not CT);
2. affine alignment to the model's healthy template and a brain mask from its brain prior
   (or the mask given) — :mod:`medsynth.tasks.anomaly.alignment`;
3. the model on the aligned, masked scan (:func:`medsynth.runtime.run_generator`): a segmentation
   model gives the probability of not-healthy tissue directly; a reconstruction model gives the
   healthy version of the scan; for ``method="baseline"``, the healthy mean intensity at each voxel;
4. for a reconstruction model (and the baseline), the residual → score
   (:mod:`medsynth.tasks.anomaly.scoring`; in healthy-population standard deviations); the score is
   put back onto the scan's own grid;
5. findings above the threshold (:mod:`medsynth.tasks.anomaly.findings`) and the scan-level
   artefact verdict (:mod:`medsynth.tasks.anomaly.artefacts`).

Both methods share steps 1–2, so :func:`analyse_scan` can score a scan with both at the cost of
one registration (what the benchmark does).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.domain import enforce_domain
from medsynth.errors import InputError, ModelError
from medsynth.provenance import Provenance
from medsynth.qa import check_volume
from medsynth.runtime.generate import check_modality, run_generator
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.runtime.sliding_window import CancelCheck, ProgressCallback
from medsynth.tasks.anomaly.alignment import AlignedScan, align_scan, to_scan_grid
from medsynth.tasks.anomaly.artefacts import ArtefactVerdict, image_features, verdict
from medsynth.tasks.anomaly.findings import Finding, label_findings
from medsynth.tasks.anomaly.scoring import eroded, healthy_score, residual_map, smoothed_residual, zscore_baseline
from medsynth.tasks.anomaly.settings import METHODS, AnomalySettings
from medsynth.tasks.anomaly.space import (PROBABILITY, RECONSTRUCTION, PopulationMaps, is_segmentation_model,
                                          population_maps)

SCORE_UNITS = "healthy-population standard deviations (z)"
PROBABILITY_UNITS = "probability of not-healthy tissue (0-1)"
_MAPS_CACHE: dict[str, PopulationMaps] = {}


@dataclass
class AnomalyResult:
    """The anomaly analysis of one scan by one method; images are on the scan's grid.

    ``score``: the heat map (float32, :data:`SCORE_UNITS`; 0 outside the scored brain);
    ``reconstruction``: the healthy version (normalised intensity, model method only);
    ``brain_mask``: uint8, the voxels that were scored; ``findings`` at ``threshold`` and
    ``finding_labels`` (uint16, voxels of finding ``id`` = id); ``artefact``: the scan-level verdict.
    """

    method: str
    score: sitk.Image
    reconstruction: sitk.Image | None
    brain_mask: sitk.Image
    findings: list[Finding]
    finding_labels: sitk.Image
    threshold: float
    artefact: ArtefactVerdict
    provenance: Provenance
    seconds: float
    settings: AnomalySettings = field(repr=False, default_factory=AnomalySettings)

    @property
    def score_units(self) -> str:
        """What the score means: a probability (segmentation model) or healthy-population z."""
        return PROBABILITY_UNITS if self.provenance.parameters.get("score") == PROBABILITY else SCORE_UNITS

    def summary(self) -> dict:
        """Threshold, units, artefact verdict and counts, for a findings file or a report."""
        return {"method": self.method, "outside_domain": self.provenance.outside_domain,
                "threshold": self.threshold, "score_units": self.score_units,
                "min_finding_ml": self.settings.min_finding_ml, "artefact": self.artefact.to_dict(),
                "model_id": self.provenance.model_id, "model_version": self.provenance.model_version}


def model_population_maps(model: OnnxGenerator) -> PopulationMaps:
    """The model's population maps, read once per weights file (sha256)."""
    key = model.card.weights_sha256
    if key not in _MAPS_CACHE:
        _MAPS_CACHE[key] = population_maps(model.predict, tuple(o.name for o in model.card.outputs))
    return _MAPS_CACHE[key]


def check_anomaly_model(model: OnnxGenerator) -> None:
    if model.card.task != "anomaly":
        raise ModelError(f"Model {model.card.id} is a '{model.card.task}' model, not an anomaly model. "
                         "Choose a model of task 'anomaly' (medsynth models list --task anomaly).")


def analyse_scan(image: sitk.Image, model: OnnxGenerator, methods: Sequence[str] = ("model",),
                 brain_mask: sitk.Image | None = None, brain_extracted: bool | None = None,
                 threshold: float | None = None, settings: AnomalySettings | None = None,
                 progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None,
                 input_description: str = "", allow_outside: bool = False) -> dict[str, AnomalyResult]:
    """Score ``image`` with each of ``methods`` (``"model"``, ``"baseline"``); one registration for all.

    ``threshold`` overrides the card's validated threshold (for every method asked);
    ``brain_mask`` (> 0 = brain, any grid in the scan's space) replaces the card's brain mask
    (deepbet or the population prior, ``settings.brain_mask``);
    ``allow_outside`` runs on a scan outside the card's domain, stamping the results.
    """
    started = time.perf_counter()
    report = progress or (lambda fraction: None)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise InputError(f"Unknown anomaly method(s) {unknown or methods}; choose from {METHODS}.")
    if threshold is not None and not np.isfinite(threshold):
        raise InputError(f"The threshold must be a finite number of {SCORE_UNITS}, got {threshold}.")
    check_anomaly_model(model)
    check_volume(image)
    check_modality(image, model.card.modality)
    domain = enforce_domain(image, model.card, allow_outside)
    if brain_mask is not None:
        check_volume(brain_mask, "brain mask")
    settings = settings or AnomalySettings.from_card(model.card)
    maps = model_population_maps(model)
    if brain_mask is None and settings.brain_mask == "deepbet":
        from medsynth.tasks.anomaly.brain_net import brain_mask as deepbet_mask

        brain_mask = deepbet_mask(image)
    report(0.05)
    aligned = align_scan(image, maps, model.card.normalization, brain_mask, brain_extracted, cancelled)
    report(0.4)
    region = eroded(aligned.brain_mask, settings.erosion_voxels)
    kspace = image_features(image, aligned.brain_extracted)
    native_region = sitk.Cast(to_scan_grid(region.astype(np.float32), image, aligned.registration,
                                           sitk.sitkNearestNeighbor) > 0.5, sitk.sitkUInt8)
    segmenter = is_segmentation_model(tuple(o.name for o in model.card.outputs))
    results = {}
    for method in methods:
        reconstruction = None
        if method == "model":
            generated = run_generator(model, aligned.masked_image(), progress=lambda f: report(0.4 + 0.4 * f),
                                      cancelled=cancelled, input_description=input_description)
            if segmenter:
                probability = sitk.GetArrayFromImage(generated.images[PROBABILITY])
                score = smoothed_residual(probability, region, settings.median_size)
            else:
                recon = sitk.GetArrayFromImage(generated.images[RECONSTRUCTION])
                residual = residual_map(aligned.network_input, recon, settings.residual)
                score = healthy_score(smoothed_residual(residual, region, settings.median_size),
                                      maps.residual_mean, maps.residual_sd, region)
                reconstruction = to_scan_grid(np.where(aligned.brain_mask, recon, 0.0), image, aligned.registration)
            provenance = generated.provenance
        else:
            score = zscore_baseline(aligned.network_input, maps.intensity_mean, maps.intensity_sd, region,
                                    settings.median_size)
            provenance = Provenance(model.card.id, model.card.version, model.card.weights_sha256, "anomaly",
                                    input_description=input_description)
        level = settings.threshold_for(method) if threshold is None else float(threshold)
        score_kind = PROBABILITY if method == "model" and segmenter else "z"
        provenance = _with_parameters(provenance, method, level, settings, aligned, score_kind, domain.stamp)
        native_score = to_scan_grid(score, image, aligned.registration)
        residual_name = "residual" if method == "model" else "baseline_residual"
        features = {**kspace, residual_name: float(np.median(score[region]))}
        findings, finding_labels = label_findings(native_score, level, settings.min_finding_ml, native_region)
        results[method] = AnomalyResult(
            method=method, score=native_score, reconstruction=reconstruction, brain_mask=native_region,
            findings=findings, finding_labels=finding_labels, threshold=level,
            artefact=verdict(features, settings.artefact_reference, settings.artefact_threshold),
            provenance=provenance, seconds=time.perf_counter() - started, settings=settings)
    report(1.0)
    return results


def anomaly_map(image: sitk.Image, model: OnnxGenerator, method: str = "model", **options) -> AnomalyResult:
    """The anomaly analysis of ``image`` by one method (options as :func:`analyse_scan`)."""
    return analyse_scan(image, model, (method,), **options)[method]


def _with_parameters(provenance: Provenance, method: str, threshold: float, settings: AnomalySettings,
                     aligned: AlignedScan, score_kind: str, outside_domain: str | None = None) -> Provenance:
    parameters = dict(provenance.parameters)
    parameters.update({"method": method, "threshold": threshold, "residual": settings.residual,
                       "score": score_kind,
                       "median_size": settings.median_size, "erosion_voxels": settings.erosion_voxels,
                       "brain_extracted": bool(aligned.brain_extracted),
                       "registration_mutual_information": round(aligned.registration.metric, 4)})
    return Provenance(provenance.model_id, provenance.model_version, provenance.model_sha256, "anomaly",
                      parameters, provenance.input_description, outside_domain=outside_domain)

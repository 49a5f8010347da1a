"""Train an anomaly model from healthy T1 scans, end to end.

* :func:`train_healthy_model` — what every anomaly model shares: healthy scans → MNI template and
  brain prior (pass 1) → training volumes aligned as at run time (pass 2) → the network → the
  healthy population maps → ONNX (with parity check) → model card → the artefact reference
  statistics of the training scans, measured through the exported model. The built-in model
  (:mod:`medsynth.training.anomaly.builtin`) adds thresholds from a lesion benchmark to it.
* :func:`train_from_folder` — ``medsynth train anomaly``: the same from a user's folder of healthy
  scans (BIDS or flat), with a seeded split into training and validation scans. There is no lesion
  benchmark for a user's folder, so the thresholds come from the held-out healthy validation scans
  (:data:`THRESHOLD_RULE`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.build import image_stem
from medsynth.errors import InputError
from medsynth.io import read_image
from medsynth.models.card import CARD_FILE_NAME, ModelCard, card_schema, load_card
from medsynth.models.registry import ModelEntry
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.sample_data import shared_data_dir
from medsynth.tasks.anomaly.task import analyse_scan
from medsynth.tasks.anomaly.artefacts import reference_statistics
from medsynth.tasks.anomaly.findings import find_findings
from medsynth.tasks.anomaly.settings import METHODS, AnomalySettings
from medsynth.training.anomaly.augment import BatchMaker
from medsynth.training.anomaly.data import (HealthyScan, build_template_and_prior, find_healthy_scans, load_prepared,
                                            prepare_scans, save_prepared)
from medsynth.training.anomaly.export import (WEIGHTS_FILE, export_anomaly_model, inference_block, input_block,
                                              outputs_block)
from medsynth.training.anomaly.population import intensity_maps, residual_maps
from medsynth.training.anomaly.spec import TrainingConfig
from medsynth.training.anomaly.train import train_network
from medsynth.training.cards import software_versions, write_card
from medsynth.training.domains import TRAINED_DOMAINS

Log = Callable[[str], None]
#: ``card_for(settings, notes, parity_max_abs_diff)`` → the card's blocks (see :func:`train_healthy_model`).
CardMaker = Callable[[AnomalySettings, dict, float], dict]

_DEFAULTS = AnomalySettings()
#: How ``medsynth train anomaly`` sets the thresholds of a user-trained model (quoted in its card and --help).
THRESHOLD_RULE = (
    "Finding thresholds (model and z-score baseline, each on its own score): the smallest score threshold, rounded "
    f"up to 0.01, at which no held-out healthy validation scan has a finding of at least {_DEFAULTS.min_finding_ml:g} "
    f"mL, never below the default threshold ({_DEFAULTS.threshold:g}; baseline {_DEFAULTS.baseline_threshold:g}). "
    f"Artefact "
    f"threshold: the default {_DEFAULTS.artefact_threshold:g}, raised to the next multiple of 0.5 at or above every "
    "validation scan's artefact score, so that no validation scan is labelled with an artefact.")
DEFAULT_TEMPLATE = Path("templates") / "avg152T1.nii.gz"


@dataclass
class TrainedModel:
    """A trained, exported model with a valid card: the runtime model, the scoring settings (defaults
    plus the artefact reference of the training scans), the card's training notes and the parity."""

    folder: Path
    model: OnnxGenerator
    settings: AnomalySettings
    notes: dict
    parity: float


def model_entry(folder: Path) -> ModelEntry:
    """The model written in ``folder`` (read from its card, not looked up by id among its neighbours)."""
    return ModelEntry(load_card(Path(folder) / CARD_FILE_NAME), Path(folder), "trained")


def train_healthy_model(scans: Sequence[HealthyScan], mni_template: Path, out: Path, config: TrainingConfig,
                        card_for: CardMaker, cache: Path | None = None, log: Log = print) -> TrainedModel:
    """Train on ``scans``, export ``out/model.onnx`` and write ``out/card.json`` from ``card_for``.

    ``mni_template``: the MNI T1 the scans are first registered to; ``cache``: an ``.npz`` keeping
    the aligned scans (reused when it holds exactly the same scan names). The card is written with
    the default scoring settings; the returned settings add the artefact reference statistics of
    the scans not already in MNI space (each analysed through the exported model), for the caller
    to set its thresholds and write the final card.
    """
    out.mkdir(parents=True, exist_ok=True)
    cached = load_prepared(cache, [s.name for s in scans]) if cache is not None else None
    if cached is None:
        template = read_image(mni_template)
        head_template, prior = build_template_and_prior(scans, template, config.normalization, log)
        prepared = prepare_scans(scans, head_template, prior, config.normalization, log)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            save_prepared(cache, prepared, head_template, prior)
    else:
        prepared, head_template, prior = cached
    inputs, masks = [p.network_input for p in prepared], [p.brain_mask for p in prepared]
    maps = {"brain_prior": prior, **intensity_maps(prepared, head_template, prior)}
    atlas = maps["template"].astype(np.float16).astype(np.float32)  # exactly what the exported graph holds
    outcome = train_network(inputs, masks, prior, atlas, config, log)
    settings = AnomalySettings()
    maker = BatchMaker(inputs, masks, prior, atlas, config)
    maps.update(residual_maps(outcome.network, prepared, atlas, maker, settings, log=log))
    parity = export_anomaly_model(outcome.network, maps, out, inputs[0])
    log(f"parity: max |torch − onnxruntime| = {parity.max_abs_diff:.2e}")
    notes = {"config": config.to_dict(), "iterations_done": outcome.iterations,
             "training_minutes": round(outcome.seconds / 60, 2), "final_l1": round(outcome.final_loss, 4),
             "parameters": outcome.parameters, "software": software_versions()}
    write_card(out, card_for(settings, notes, parity.max_abs_diff), out / WEIGHTS_FILE)
    model = OnnxGenerator(model_entry(out), threads=config.threads)

    features = []
    for scan in (s for s in scans if not s.in_mni):
        results = analyse_scan(read_image(scan.path), model, METHODS, brain_extracted=False)
        features.append({**results["model"].artefact.features, **results["baseline"].artefact.features})
    settings = settings.with_values(artefact_reference=reference_statistics(features))
    return TrainedModel(out, model, settings, notes, parity.max_abs_diff)


# --- medsynth train anomaly ------------------------------------------------------------------------------------------


@dataclass
class FolderTrainingOptions:
    """Everything ``medsynth train anomaly`` can set."""

    data: Path
    out: Path
    labels: Path | None = None
    template: Path | None = None
    model_id: str = "anomaly-custom"
    version: str = "1.0.0"
    name: str = "Healthy-brain T1 reconstruction (user-trained anomaly map)"
    validation_fraction: float = 0.2
    validation: tuple[str, ...] = ()
    work: Path | None = None
    config: TrainingConfig = field(default_factory=lambda: TrainingConfig(stop_after=None))
    command: str = ""


@dataclass(frozen=True)
class ValidationScan:
    """What one held-out healthy scan needs: the smallest clear threshold per method, its artefact score."""

    name: str
    clear_threshold: dict
    artefact_score: float


def _log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def default_template() -> Path | None:
    """SPM's ``avg152T1`` of the project's shared data corpus, if present."""
    data = shared_data_dir()
    if data is not None and (data / DEFAULT_TEMPLATE).is_file():
        return data / DEFAULT_TEMPLATE
    return None


def check_options(options: FolderTrainingOptions) -> Path:
    """Refuse unusable options before any work; returns the MNI template to use."""
    out = Path(options.out).resolve()
    for option, folder in (("--data", options.data), ("--labels", options.labels)):
        if folder is not None and Path(folder).resolve() == out:
            raise InputError(f"--out {options.out} is the input folder given as {option}; write the model to a "
                             "folder of its own (e.g. models/my-anomaly-model).")
    properties = card_schema()["properties"]
    if not re.fullmatch(properties["id"]["pattern"], options.model_id):
        raise InputError(f"--model-id {options.model_id!r} is not a valid model id: use 2-64 lower-case letters, "
                         "digits, '.', '_' or '-', starting with a letter or digit (e.g. anomaly-site-a).")
    if not re.fullmatch(properties["version"]["pattern"], options.version):
        raise InputError(f"--version {options.version!r} is not a version number: use MAJOR.MINOR.PATCH (e.g. 1.0.0).")
    if not options.validation and not 0 < options.validation_fraction < 1:
        raise InputError("--validation-fraction must be between 0 and 1 (exclusive), "
                         f"got {options.validation_fraction}.")
    template = options.template or default_template()
    if template is None:
        raise InputError("No MNI T1 template was found: pass --template MNI_T1 (a T1 image on the MNI grid, e.g. "
                         "SPM's avg152T1.nii.gz).")
    if not Path(template).is_file():
        raise InputError(f"MNI template not found: {template}. Pass --template with an existing MNI-space T1 image.")
    return Path(template)


def find_scans(options: FolderTrainingOptions) -> list[HealthyScan]:
    """The scans of ``options.data`` with their label maps; at least two, at least one label map."""
    scans = find_healthy_scans(options.data, options.labels)
    if len(scans) < 2:
        raise InputError(f"Found only {len(scans)} T1 scan in {options.data}; training needs at least 2 healthy scans "
                         "(at least 1 for training and 1 for validation). Add more healthy T1 scans.")
    if not any(scan.labels is not None for scan in scans):
        where = (f"in {options.labels}" if options.labels is not None else "(no --labels folder was given)")
        raise InputError(f"No brain label map was found for any scan {where}; the brain prior needs them. Pass "
                         "--labels DIR with a label map (> 0 = brain, e.g. a DLMUSE or FreeSurfer parcellation) for "
                         "each scan, whose file name starts with the scan's name (e.g. sub-01_T1w_DLMUSE.nii.gz "
                         "for sub-01_T1w.nii.gz).")
    return scans


def subject_of(scan: HealthyScan) -> str:
    """The subject a scan belongs to: ``sub-<label>`` for BIDS names, else the scan itself."""
    return scan.name.split("_")[0] if scan.name.startswith("sub-") else scan.name


def split_scans(scans: Sequence[HealthyScan], fraction: float, names: Sequence[str] = (),
                seed: int = 0) -> tuple[list[HealthyScan], list[HealthyScan]]:
    """(training, validation): the scans named by ``names`` (a scan's name, with or without the image ending, or
    else the start of its name, e.g. a BIDS subject), or else ``fraction`` of the subjects (rounded, at least 1,
    at most all but one; every scan of a subject on the same side), chosen by ``seed``."""
    if names:
        chosen = set()
        for name in names:
            prefix = image_stem(Path(name))
            exact = {i for i, s in enumerate(scans) if s.name == prefix}
            matched = exact or {i for i, s in enumerate(scans) if s.name.startswith(prefix)}
            if not matched:
                raise InputError(f"--validation {name}: no scan of that name; the scans are "
                                 f"{', '.join(s.name for s in scans)}.")
            chosen |= matched
    else:
        subjects = sorted({subject_of(s) for s in scans})
        count = min(max(int(round(fraction * len(subjects))), 1), len(subjects) - 1) if len(subjects) > 1 else 0
        held_out = {subjects[int(i)] for i in np.random.default_rng(seed).permutation(len(subjects))[:count]}
        chosen = {i for i, s in enumerate(scans) if subject_of(s) in held_out}
        if not chosen:
            raise InputError(f"All {len(scans)} scans belong to one subject ({subjects[0]}); a held-out validation "
                             "scan of the same subject would not test healthy variation. Add scans of other "
                             "subjects, or name the validation scans with --validation.")
    training = [s for i, s in enumerate(scans) if i not in chosen]
    validation = [s for i, s in enumerate(scans) if i in chosen]
    if not training:
        raise InputError("--validation names every scan; leave at least one scan for training.")
    if not any(s.labels is not None for s in training):
        raise InputError("None of the training scans has a brain label map (only validation scans do); the brain "
                         "prior needs them. Add label maps to --labels or hold out other scans (--validation).")
    return training, validation


def clear_threshold(score: sitk.Image, region: sitk.Image, min_ml: float, floor: float) -> float:
    """The smallest threshold on the 0.01 grid, at least ``floor``, at which ``score`` has no finding of at
    least ``min_ml`` inside ``region`` (findings only shrink as the threshold rises: bisection)."""
    def clear(hundredths: int) -> bool:
        return not find_findings(score, round(hundredths / 100, 2), min_ml, region)

    low = math.ceil(round(floor * 100, 6))
    if clear(low):
        return round(low / 100, 2)
    values = sitk.GetArrayViewFromImage(score)[sitk.GetArrayViewFromImage(region) > 0]
    high = max(math.floor(float(values.max()) * 100) + 2, low + 1)  # above every voxel: nothing left
    while high - low > 1:  # not clear at low, clear at high
        middle = (low + high) // 2
        if clear(middle):
            high = middle
        else:
            low = middle
    return round(high / 100, 2)


def validate_scan(scan: HealthyScan, model: OnnxGenerator, settings: AnomalySettings) -> ValidationScan:
    """Analyse a held-out healthy scan as ``medsynth anomaly-map`` does (both methods, automatic brain
    extraction detection) and measure the thresholds it needs."""
    results = analyse_scan(read_image(scan.path), model, METHODS, settings=settings, input_description=scan.name)
    floors = {"model": _DEFAULTS.threshold, "baseline": _DEFAULTS.baseline_threshold}
    needed = {method: clear_threshold(result.score, result.brain_mask, settings.min_finding_ml, floors[method])
              for method, result in results.items()}
    return ValidationScan(scan.name, needed, max(result.artefact.score for result in results.values()))


def validation_settings(settings: AnomalySettings, checked: Sequence[ValidationScan]) -> AnomalySettings:
    """The thresholds of :data:`THRESHOLD_RULE`."""
    artefact = max([_DEFAULTS.artefact_threshold] + [math.ceil(2 * c.artefact_score) / 2 for c in checked])
    return settings.with_values(threshold=max(c.clear_threshold["model"] for c in checked),
                                baseline_threshold=max(c.clear_threshold["baseline"] for c in checked),
                                artefact_threshold=float(artefact))


def train_from_folder(options: FolderTrainingOptions, log: Log = _log_to_stderr) -> ModelCard:
    """Train, export, validate and describe a model from ``options.data`` into ``options.out``."""
    started = time.perf_counter()
    template = check_options(options)
    scans = find_scans(options)
    training, validation = split_scans(scans, options.validation_fraction, options.validation, options.config.seed)
    log(f"{len(scans)} scans: {len(training)} for training, {len(validation)} for validation "
        f"({', '.join(s.name for s in validation)})")
    out = Path(options.out)
    cache = _cache_path(Path(options.work), training, template, options.config) if options.work else None
    trained = train_healthy_model(
        training, template, out, options.config,
        lambda settings, notes, parity: _card(options, template, settings, notes, parity, training, validation, {}),
        cache=cache, log=log)
    checked = []
    for scan in validation:
        checked.append(validate_scan(scan, trained.model, trained.settings))
        log(f"validation {scan.name}: clear at model {checked[-1].clear_threshold['model']}, baseline "
            f"{checked[-1].clear_threshold['baseline']}; artefact score {checked[-1].artefact_score:.2f}")
    settings = validation_settings(trained.settings, checked)
    metrics = {"validation_scans": [c.name for c in checked],
               "per_scan": {c.name: {"model_clear_threshold": c.clear_threshold["model"],
                                     "baseline_clear_threshold": c.clear_threshold["baseline"],
                                     "artefact_score": round(c.artefact_score, 3)} for c in checked},
               "threshold_rule": THRESHOLD_RULE}
    notes = {**trained.notes, "total_minutes": round((time.perf_counter() - started) / 60, 2)}
    card = write_card(out, _card(options, template, settings, notes, trained.parity, training, validation, metrics),
                      out / WEIGHTS_FILE)
    log(f"wrote {out}: thresholds model {settings.threshold}, baseline {settings.baseline_threshold}, "
        f"artefact {settings.artefact_threshold}")
    return card


def _cache_path(work: Path, scans: Sequence[HealthyScan], template: Path, config: TrainingConfig) -> Path:
    """The aligned-scan cache, named after everything that decides its content (files, sizes, times)."""
    def stamp(path: Path | None) -> list:
        if path is None:
            return []
        stat = Path(path).stat()
        return [str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns]

    key = json.dumps([[s.name, stamp(s.path), stamp(s.labels)] for s in scans] + [stamp(template),
                     config.to_dict()["normalization"]], sort_keys=True)
    return work / f"prepared-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def _card(options: FolderTrainingOptions, template: Path, settings: AnomalySettings, notes: dict, parity: float,
          training: Sequence[HealthyScan], validation: Sequence[HealthyScan], metrics: dict) -> dict:
    config = options.config
    labelled = sum(s.labels is not None for s in training)
    return {
        "id": options.model_id, "version": options.version, "task": "anomaly", "name": options.name,
        "description": ("3D UNet denoising autoencoder trained on healthy T1 brains in MNI space (2 mm) with "
                        "'medsynth train anomaly'; the residual between a scan and its healthy reconstruction, "
                        "normalised by healthy brains, is the anomaly score. The ONNX file also carries the healthy "
                        "template, brain prior and population statistics as constant output channels."),
        "input": input_block(config), "domain": TRAINED_DOMAINS["anomaly"], "inference": inference_block(),
        "outputs": outputs_block(),
        "training": {
            "data": (f"{len(training)} healthy T1 scans of {options.data}: {', '.join(s.name for s in training)}; "
                     f"brain prior from the label maps of {labelled} of them"
                     f"{f' ({options.labels})' if options.labels else ''}; registered to the MNI template "
                     f"{template.name}."),
            "command": options.command or "medsynth train anomaly", "notes": json.dumps(notes, sort_keys=True)},
        "validation": {
            "data": (f"{len(validation)} held-out healthy T1 scan(s) of {options.data} "
                     f"({'named with --validation' if options.validation else f'seeded split, seed {config.seed}'}): "
                     f"{', '.join(s.name for s in validation)}. No lesion benchmark: the model's sensitivity to "
                     f"lesions was not measured. {THRESHOLD_RULE}"),
            "metrics": metrics, "parity_max_abs_diff": parity, "scoring": settings.to_card_block()},
        "intended_use": ("Research and education: highlighting regions of an adult brain T1 MRI that do not look like "
                         "the healthy brains the model was trained on. Not a medical device; not for diagnosis."),
        "limitations": [
            f"Trained on {len(training)} healthy T1 volumes: anatomy, ages, scanners or sequences unlike them may "
            "score as anomalous.",
            "Thresholds were set only so that the held-out healthy scans have no finding (see validation.data); how "
            "well lesions are found was not measured (build a benchmark with 'medsynth anomaly-benchmark' and run "
            "'medsynth evaluate anomaly' to measure it).",
            "Works at 2 mm after an affine alignment to MNI space: regions smaller than "
            f"{settings.min_finding_ml:g} mL are not reported as findings.",
            "Artefact reference statistics come from the training scans only; the artefact threshold was not "
            "validated on scans with artefacts.",
        ],
        "license": "Set by the user who trained the model; the training data's licence applies.",
        "references": [
            "Kascenas A, Pugeault N, O'Neil AQ. Denoising autoencoders for unsupervised anomaly detection in brain MRI. "
            "MIDL 2022.",
        ],
    }

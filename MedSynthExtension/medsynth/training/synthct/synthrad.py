"""Train a synthetic-CT model from SynthRAD-layout folders, end to end, in one call.

``train_from_folder`` = find cases → seeded split by case → put every case on the model grid →
train (checkpoints and resume in ``<out>/checkpoints``) → export ONNX into ``<out>`` → parity on
a real validation MR → end-to-end validation through the runtime (the exported ONNX, the
runtime's resampling, normalisation and sliding window; MAE in HU inside each case's mask) →
``card.json`` with those figures. ``medsynth train synth-ct`` is a thin wrapper around it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import SimpleITK as sitk

from medsynth.io import read_image
from medsynth.models.card import ModelCard
from medsynth.training.cards import software_versions, write_card
from medsynth.training.synthct import pipeline
from medsynth.training.synthct.data import PairedCase, find_cases, prepare_case, split_cases
from medsynth.training.synthct.model import ModelConfig
from medsynth.training.synthct.spec import SynthCTSpec
from medsynth.training.synthct.train import TrainConfig, train
from medsynth.training.synthct.validation import mae_hu

Log = Callable[[str], None]


@dataclass
class FolderTrainingOptions:
    """Everything ``medsynth train synth-ct`` can set."""

    data: Path
    out: Path
    model_id: str = "synthct-custom"
    version: str = "1.0.0"
    name: str = "Synthetic CT from MRI (user-trained)"
    contrast: str = "T1-weighted"
    validation_fraction: float = 0.1
    resume: bool = True
    spec: SynthCTSpec = field(default_factory=SynthCTSpec)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    command: str = ""


def _log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def train_from_folder(options: FolderTrainingOptions, log: Log = _log_to_stderr) -> ModelCard:
    """Train, export, check and describe a model from ``options.data`` into ``options.out``."""
    from medsynth.tasks.synthct import synth_ct

    started = time.perf_counter()
    cases = find_cases(options.data)
    training_cases, validation_cases = split_cases(cases, options.validation_fraction, options.train.seed)
    log(f"{len(cases)} cases: {len(training_cases)} for training, {len(validation_cases)} for validation")
    training = [prepare_case(case, options.spec) for case in training_cases]
    validation = [prepare_case(case, options.spec) for case in validation_cases]
    outcome = train(training, validation, options.spec, options.model, options.train,
                    options.out / "checkpoints", resume=options.resume, log=log)
    weights_name = f"{options.model_id}.onnx"
    onnx_path = pipeline.export_generator(outcome.model, options.model, options.out, weights_name)
    parity_case = (validation_cases or training_cases)[0]
    parity = pipeline.parity_on(outcome.model, onnx_path, read_image(parity_case.mr), f"case {parity_case.name} (MR)",
                                options.spec, options.model)
    log(f"ONNX parity on {parity.description}: max |torch − onnxruntime| = {parity.max_abs_diff:.3g} HU")
    card = _card(options, outcome, training_cases, validation_cases, parity, metrics={})
    write_card(options.out, card, onnx_path)
    entry = pipeline.model_entry(options.out)
    # The model's own validation cases define its domain, so they are not gated against it.
    per_case = {case.name: _case_mae(case, lambda mr, mask: synth_ct(mr, entry, mask=mask, allow_outside=True).ct)
                for case in validation_cases}
    metrics = {"validation_cases": len(validation_cases)}
    if per_case:
        metrics["mae_hu_mean"] = round(float(np.mean(list(per_case.values()))), 1)
        metrics["mae_hu_per_case"] = {name: round(value, 1) for name, value in per_case.items()}
        log(f"end-to-end validation MAE (runtime, ONNX): {metrics['mae_hu_mean']} HU over {len(per_case)} cases")
    metrics["training_minutes"] = round((time.perf_counter() - started) / 60, 1)
    return write_card(options.out, _card(options, outcome, training_cases, validation_cases, parity, metrics), onnx_path)


def _case_mae(case: PairedCase, synthesize: Callable[[sitk.Image, sitk.Image | None], sitk.Image]) -> float:
    mr, ct = read_image(case.mr), read_image(case.ct)
    mask = read_image(case.mask) if case.mask is not None else None
    sct = synthesize(mr, mask)
    mask_array = sitk.GetArrayFromImage(mask) > 0 if mask is not None else np.ones(ct.GetSize()[::-1], bool)
    return mae_hu(sitk.GetArrayFromImage(ct), sitk.GetArrayFromImage(sct), mask_array)


def _card(options: FolderTrainingOptions, outcome, training_cases: list[PairedCase],
          validation_cases: list[PairedCase], parity, metrics: dict) -> dict:
    model = options.model
    return {
        "id": options.model_id, "version": options.version, "task": "synth-ct", "name": options.name,
        "description": f"{model.architecture} MONAI UNet {list(model.channels)} trained on paired MR/CT from {options.data}.",
        **pipeline.runtime_card_blocks(options.spec, model, options.contrast),
        "training": {
            "data": f"{len(training_cases)} paired MR/CT cases (SynthRAD layout) from {options.data}",
            "command": options.command or "medsynth train synth-ct",
            "notes": (f"Masked L1 on HU inside each case's mask; {outcome.iterations} iterations, batch "
                      f"{options.train.batch_size}, AdamW lr {options.train.learning_rate}, seed {options.train.seed}; "
                      f"{outcome.seconds / 60:.1f} min; software {software_versions()}."),
        },
        "validation": {
            "data": f"{len(validation_cases)} held-out cases (seeded split by case): "
                    + ", ".join(case.name for case in validation_cases),
            "metrics": metrics, "parity_max_abs_diff": round(parity.max_abs_diff, 4),
        },
        "intended_use": "Research only. Not for diagnosis or radiotherapy treatment planning.",
        "limitations": ["Validated only on the held-out cases listed in validation.data.",
                        f"Expects {options.contrast} MR of the same body region and scanner types as the training data."],
        "license": "Set by the user who trained the model; the training data's licence applies.",
    }

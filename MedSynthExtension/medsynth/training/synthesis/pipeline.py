"""Train, export and card the synthesis model: ``medsynth train synthesis``.

Data: real lesion scans (skull-stripped T1 + FLAIR, lesion type) from a CSV (columns ``name, t1,
flair, lesion_type``; paths relative to the CSV) or, by default, the three of the shared corpus
(:func:`~medsynth.training.synthesis.real_lesions.shared_lesion_scans`). Output: ``model.onnx`` (the
appearance decoder) and ``card.json`` with the factors and their ranges, torch-vs-onnxruntime
parity and the realism AUC of the generator and of the procedural baseline on the held-out patches.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from medsynth.errors import InputError
from medsynth.models.card import ModelCard
from medsynth.tasks.synthesis.appearance import LATENT_NAMES, sample_lesion
from medsynth.tasks.synthesis.factors import LATENT_RANGE, LESION_TYPES, factor_space
from medsynth.tasks.synthesis.grid import ORIENTATION, PATCH_SIZE, SPACING_MM
from medsynth.training.cards import software_versions, write_card
from medsynth.training.export import export_onnx
from medsynth.training.synthesis.real_lesions import LesionPatches, LesionScan, collect_patches
from medsynth.training.synthesis.realism import FEATURE_NAMES, classifier_auc, lesion_features, procedural_patches
from medsynth.training.synthesis.train import TrainConfig, condition_vectors, train_cvae, type_one_hot

WEIGHTS_FILE = "model.onnx"
PATCH = (1, PATCH_SIZE, PATCH_SIZE)


def read_scan_list(path: Path) -> list[LesionScan]:
    """Lesion scans listed in a CSV (``name, t1, flair, lesion_type``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Scan list not found: {path}.")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    scans = []
    for row in rows:
        missing = {"name", "t1", "flair", "lesion_type"} - set(row)
        if missing:
            raise InputError(f"{path} lacks the column(s) {sorted(missing)}.")
        if row["lesion_type"] not in LESION_TYPES:
            raise InputError(f"{path}: lesion_type {row['lesion_type']!r} is not one of {LESION_TYPES}.")
        scans.append(LesionScan(row["name"], path.parent / row["t1"], path.parent / row["flair"], row["lesion_type"]))
    return scans


@dataclass(frozen=True)
class SynthesisTraining:
    scans: tuple[LesionScan, ...]
    out: Path
    model_id: str
    version: str
    config: TrainConfig
    command: str
    data_description: str


def decoded(decoder, patches: LesionPatches, latent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, log sd) maps of the decoder for ``patches``' masks, types, mean contrasts and ``latent``."""
    import torch

    condition = condition_vectors(patches.lesion_type, patches.mean_contrast, latent)
    with torch.no_grad():
        out = decoder(torch.from_numpy(patches.mask.astype(np.float32))[:, None], torch.from_numpy(condition)).numpy()
    return out[:, 0], out[:, 1]


def texture_correlation(encoder, decoder, patches: LesionPatches) -> float:
    """Gaussian smoothing (voxels) whose lag-1 correlation matches that of the standardised
    residuals of the training patches (for smoothed white noise, ρ₁ = exp(−1 / 4σ²))."""
    import torch

    with torch.no_grad():
        mean, _ = encoder(torch.from_numpy(patches.intensity)[:, None], torch.from_numpy(patches.mask.astype(np.float32))[:, None],
                          torch.from_numpy(type_one_hot(patches.lesion_type)))
    mu, log_sd = decoded(decoder, patches, mean.numpy())
    residual = (patches.intensity - mu) / np.exp(log_sd)
    pairs = [(residual[:, :, :-1], residual[:, :, 1:], patches.mask[:, :, :-1] & patches.mask[:, :, 1:]),
             (residual[:, :-1], residual[:, 1:], patches.mask[:, :-1] & patches.mask[:, 1:])]
    rho = np.mean([np.corrcoef(a[m], b[m])[0, 1] for a, b, m in pairs])
    return round(float(np.sqrt(-1 / (4 * np.log(rho)))), 3) if 0 < rho < 1 else 0.0


def generated_patches(decoder, patches: LesionPatches, correlation: float, seed: int) -> np.ndarray:
    """Drawn lesions for ``patches``' masks, types and mean contrasts, latent code ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    latent = np.clip(rng.standard_normal((len(patches.mask), len(LATENT_NAMES))), *LATENT_RANGE)
    mean, log_sd = decoded(decoder, patches, latent)
    return np.stack([sample_lesion(m, s, correlation, rng) for m, s in zip(mean, log_sd)])


def parity(exported, path: Path, patches: LesionPatches) -> float:
    """max |torch − onnxruntime| over the held-out masks (intensity units)."""
    import onnxruntime as ort
    import torch

    condition = condition_vectors(patches.lesion_type, patches.mean_contrast, np.zeros((len(patches.mask), len(LATENT_NAMES))))
    image = patches.mask.astype(np.float32)[:, None, None]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = exported(torch.from_numpy(image), torch.from_numpy(condition)).numpy()
    return float(np.abs(session.run(None, {"image": image, "condition": condition})[0] - expected).max())


def realism(decoder, held_out: LesionPatches, correlation: float, seed: int) -> dict:
    real = lesion_features(held_out.intensity, held_out.mask)
    learned = lesion_features(generated_patches(decoder, held_out, correlation, seed), held_out.mask)
    procedural = lesion_features(procedural_patches(held_out.mask, held_out.mean_contrast, seed), held_out.mask)
    (learned_auc, learned_sd), (procedural_auc, procedural_sd) = (classifier_auc(real, g, seed) for g in (learned, procedural))
    return {"realism_auc_learned": round(learned_auc, 3), "realism_auc_learned_sd": round(learned_sd, 3),
            "realism_auc_procedural": round(procedural_auc, 3), "realism_auc_procedural_sd": round(procedural_sd, 3),
            "realism_held_out_patches": int(len(held_out.mask)), "realism_features": list(FEATURE_NAMES)}


def train_synthesis_model(job: SynthesisTraining, log: Callable[[str], None] = print) -> ModelCard:
    import torch

    from medsynth.training.synthesis.model import ExportedDecoder

    patches = collect_patches(list(job.scans))
    for name in LESION_TYPES:
        if not (patches.lesion_type[~patches.held_out] == name).any():
            raise InputError(f"No training patch of lesion type '{name}': the scans need lesions of both types.")
    train, held_out = patches.subset(~patches.held_out), patches.subset(patches.held_out)
    log(f"{len(train.mask)} training and {len(held_out.mask)} held-out lesion patches from {len(job.scans)} scans")
    encoder, decoder, notes = train_cvae(train, job.config, log=log)
    job.out.mkdir(parents=True, exist_ok=True)
    exported = ExportedDecoder(decoder).eval()
    path = export_onnx(exported, PATCH, job.out / WEIGHTS_FILE, condition_width=condition_vectors(
        np.array(["tumour"]), np.zeros(1), np.zeros((1, len(LATENT_NAMES)))).shape[1])
    difference = parity(exported, path, held_out)
    correlation = texture_correlation(encoder, decoder, train)
    metrics = realism(decoder, held_out, correlation, job.config.seed)
    log(f"parity {difference:.2e}; realism AUC learned {metrics['realism_auc_learned']}, "
        f"procedural {metrics['realism_auc_procedural']} (0.5 = indistinguishable)")
    contrast = train.mean_contrast
    by_type = {name: [round(float(np.percentile(contrast[train.lesion_type == name], q)), 3) for q in (10, 90)]
               for name in LESION_TYPES}
    limits = [round(float(contrast.min()) * 0.9, 3), round(float(contrast.max()) * 1.1, 3)]
    notes.update(config=job.config.to_dict(), software=software_versions(),
                 patches_per_scan={scan.name: int((patches.scan == i).sum()) for i, scan in enumerate(job.scans)})
    card = build_card(job, limits, by_type, correlation, metrics, difference, notes)
    return write_card(job.out, card, path)


def build_card(job: SynthesisTraining, limits: list[float], by_type: dict, correlation: float, metrics: dict,
               difference: float, notes: dict) -> dict:
    space = factor_space(["<subjects of the anatomy folder>"], tuple(limits))
    return {
        "id": job.model_id, "version": job.version, "task": "synthesis",
        "name": "Lesion appearance generator for targeted 2D T1 synthesis",
        "description": ("Conditional VAE decoder that paints a lesion's T1 intensities (mean and texture "
                        "standard deviation) inside a lesion mask (48 × 48 patch, 2 mm), from the lesion type, its "
                        "mean contrast (exact by construction) and a 4-number latent code. medsynth synthesize composes it with a real healthy slice, a real "
                        "lesion shape placed by size and region, and an acquisition style."),
        "input": {"modality": "MR", "contrast": "T1", "orientation": ORIENTATION, "spacing_mm": [SPACING_MM] * 3,
                  "normalization": {"scheme": "none"}},
        "conditioning": [
            {"name": "lesion_type", "kind": "category", "categories": list(LESION_TYPES),
             "description": "tumour-like or stroke-like appearance"},
            {"name": "lesion_contrast", "kind": "number", "range": limits, "units": "× brain median",
             "description": "mean lesion intensity on T1"},
            *({"name": name, "kind": "number", "range": list(LATENT_RANGE), "description": "latent texture code"}
              for name in LATENT_NAMES)],
        "inference": {"patch_size": list(PATCH), "overlap": 0.0, "blend": "constant", "batch_size": 1,
                      "image_input": "image", "condition_input": "condition"},
        "outputs": [{"name": "lesion_intensity", "units": "× brain median T1",
                     "description": "mean lesion intensity inside the input mask (outside it: not used)"},
                    {"name": "lesion_log_sd", "units": "log(× brain median T1)",
                     "description": "log standard deviation of the lesion's voxel texture"}],
        "factors": {"definitions": [factor.to_card() for factor in space.values()],
                    "lesion_contrast_by_type": by_type, "max_lesion_volume_ml": 60.0,
                    "texture_correlation_voxels": correlation},
        "training": {"data": job.data_description, "command": job.command, "notes": json.dumps(notes, sort_keys=True)},
        "validation": {"data": ("Held-out real lesion patches (the most superior quarter of each scan's lesion slices; "
                                "never trained on). Realism: cross-validated logistic-regression AUC real vs "
                                "generated on lesion-interior features (0.5 = indistinguishable), learned generator vs "
                                "the procedural implant of the anomaly benchmark, same masks and mean contrasts."),
                       "metrics": metrics, "parity_max_abs_diff": round(difference, 8)},
        "intended_use": ("Research: making labelled 2D T1 training slices of chosen lesion type, size and region for "
                         "lesion detectors and segmenters. Output is synthetic and marked so; not for diagnosis."),
        "limitations": [
            "2D axial slices at 2 mm (96 × 96); lesion volume is a sphere-equivalent of the slice's lesion area.",
            f"Appearance learned from very few real lesions ({notes['patches_per_scan']} patches per scan), outlined by "
            "hand thresholds, not expert labels; the latent code explains little variation.",
            "T1 only; the mass effect of tumours (displaced anatomy) and contrast enhancement are not modelled.",
            "Realism AUC is measured on few held-out patches from the same scans as training (other slices).",
            "No downstream gain is shown: in the project's leave-one-scan-out benchmark (3 real lesion scans, "
            "Testing/benchmarks/bench_synthesis_downstream.py) adding synthesized slices lowered a lesion-present "
            "classifier's AUROC on real scans; rerun it on real labelled data before relying on the cohorts.",
        ],
        "license": "Weights derived from BraTS / AURORA / stroke example scans (data terms of their sources); research use",
    }

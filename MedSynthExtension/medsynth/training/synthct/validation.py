"""Held-out evaluation of a synthetic-CT model against the simple baselines (torch-free).

Two real validation sets from ``shared/data``, never used for training:

* **template pair** — MR ``templates/avg152T1`` → CT ``templates/scct_hu`` (same 2 mm MNI
  grid). Evaluation mask ("head mask"): CT > −500 HU, largest connected component, holes filled.
  Figures: MAE (HU) inside the mask of the model and of the baselines of
  :mod:`medsynth.tasks.synthct_baselines` (bulk density and probability-weighted from the TPM
  resampled onto the template grid; the best constant, i.e. the median HU in the mask).
* **head_mr_skull** — one person's clinical T1 and a skull mask drawn on that person's CT
  (``Skull.nrrd``, resampled onto the MR grid by nearest neighbour). Figure: Dice between the
  voxels the synthetic CT calls bone (HU > 300) and the skull mask, over the whole MR grid, for
  the model and for the bulk-density and probability-weighted baselines from
  :func:`medsynth.tasks.synthct_baselines.classify_mr` (TPM affinely registered + EM).

MAE is SynthRAD2023's (:func:`medsynth.metrics.synthrad.mae_2023`); the model's synthetic CT on
the template pair also gets the full SynthRAD2023 image metrics (:func:`evaluate_sct`: MAE,
PSNR, SSIM).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.metrics.synthrad import evaluate_sct, mae_2023
from medsynth.tasks import synthct_baselines as baselines
from medsynth.tasks.masks import largest_component

#: HU above which a synthetic CT voxel counts as bone for the skull Dice.
BONE_THRESHOLD_HU = 300.0
#: HU above which the real CT template counts as head for the evaluation mask.
HEAD_THRESHOLD_HU = -500.0

Synthesize = Callable[[sitk.Image], sitk.Image]


def mae_hu(ct: np.ndarray, sct: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error (HU) inside ``mask``: SynthRAD2023's definition, Σ|ct − sct|·m / Σm."""
    return float(mae_2023(np.asarray(ct), np.asarray(sct), np.asarray(mask)))


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap of two boolean arrays (1.0 when both are empty)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def template_head_mask(ct: np.ndarray) -> np.ndarray:
    """The template pair's evaluation mask from its CT (see module docstring)."""
    return ndi.binary_fill_holes(largest_component(np.asarray(ct) > HEAD_THRESHOLD_HU))


@dataclass
class TemplatePairResult:
    """MAE (HU) inside the head mask, model and baselines; voxels in the mask."""

    mae_model: float
    psnr_model: float
    ssim_model: float
    mae_bulk_density: float
    mae_probability_weighted: float
    mae_best_constant: float
    best_constant_hu: float
    voxels: int
    seconds: float

    @property
    def best_baseline(self) -> float:
        return min(self.mae_bulk_density, self.mae_probability_weighted, self.mae_best_constant)


@dataclass
class SkullResult:
    """Dice of bone (HU > 300) vs the skull mask, model and baselines."""

    dice_model: float
    dice_bulk_density: float
    dice_probability_weighted: float
    seconds: float

    @property
    def best_baseline(self) -> float:
        return max(self.dice_bulk_density, self.dice_probability_weighted)


def evaluate_template_pair(synthesize: Synthesize, data_dir: str | Path) -> TemplatePairResult:
    """Run ``synthesize`` on ``avg152T1`` and score it and the baselines against ``scct_hu``."""
    started = time.perf_counter()
    templates = Path(data_dir) / "templates"
    mr = sitk.ReadImage(str(templates / "avg152T1.nii.gz"))
    ct = sitk.GetArrayFromImage(sitk.ReadImage(str(templates / "scct_hu.nii.gz"))).astype(np.float32)
    mask = template_head_mask(ct)
    sct = sitk.GetArrayFromImage(synthesize(mr)).astype(np.float32)
    probabilities = baselines.tpm_probabilities(sitk.ReadImage(str(templates / "TPM.nii.gz")), mr)
    constant = baselines.best_constant(ct, mask)
    metrics = evaluate_sct(ct, sct, mask, "2023")
    return TemplatePairResult(
        mae_model=metrics.mae, psnr_model=metrics.psnr, ssim_model=metrics.ssim,
        mae_bulk_density=mae_hu(ct, baselines.bulk_density(probabilities), mask),
        mae_probability_weighted=mae_hu(ct, baselines.probability_weighted(probabilities), mask),
        mae_best_constant=mae_hu(ct, np.full_like(ct, constant), mask),
        best_constant_hu=constant, voxels=int(mask.sum()), seconds=time.perf_counter() - started)


def skull_validation_data(data_dir: str | Path) -> tuple[sitk.Image, np.ndarray]:
    """The head_mr_skull MR and its skull mask on the MR grid (boolean, z, y, x)."""
    folder = Path(data_dir) / "head_mr_skull"
    mr = sitk.ReadImage(str(folder / "MR.nii.gz"))
    skull = sitk.Resample(sitk.ReadImage(str(folder / "Skull.nrrd")), mr, sitk.Transform(), sitk.sitkNearestNeighbor, 0)
    return mr, sitk.GetArrayFromImage(skull) > 0


def skull_baseline_probabilities(mr: sitk.Image, data_dir: str | Path) -> np.ndarray:
    """Tissue posteriors of the head_mr_skull MR for the baselines (registration + EM; ~30 s)."""
    templates = Path(data_dir) / "templates"
    return baselines.classify_mr(mr, sitk.ReadImage(str(templates / "TPM.nii.gz")),
                                 sitk.ReadImage(str(templates / "avg152T1.nii.gz")))


def evaluate_skull(synthesize: Synthesize, data_dir: str | Path,
                   probabilities: np.ndarray | None = None) -> SkullResult:
    """Bone Dice on head_mr_skull for the model and the baselines (``probabilities`` may be
    passed in to reuse a classification computed before)."""
    started = time.perf_counter()
    mr, skull = skull_validation_data(data_dir)
    sct = sitk.GetArrayFromImage(synthesize(mr))
    if probabilities is None:
        probabilities = skull_baseline_probabilities(mr, data_dir)
    return SkullResult(
        dice_model=dice(sct > BONE_THRESHOLD_HU, skull),
        dice_bulk_density=dice(baselines.bulk_density(probabilities) > BONE_THRESHOLD_HU, skull),
        dice_probability_weighted=dice(baselines.probability_weighted(probabilities) > BONE_THRESHOLD_HU, skull),
        seconds=time.perf_counter() - started)


@dataclass
class ValidationReport:
    """Both validation sets, ready for the model card's ``validation.metrics``."""

    template: TemplatePairResult
    skull: SkullResult
    notes: dict = field(default_factory=dict)

    def card_metrics(self) -> dict:
        t, s = self.template, self.skull
        return {
            "template_pair_mae_hu": {
                "model": round(t.mae_model, 1), "bulk_density": round(t.mae_bulk_density, 1),
                "probability_weighted": round(t.mae_probability_weighted, 1),
                "best_constant": round(t.mae_best_constant, 1), "best_constant_value_hu": round(t.best_constant_hu, 1),
                "mask": "scct_hu > -500 HU, largest component, holes filled", "voxels": t.voxels},
            "template_pair_synthrad2023_model": {"mae_hu": round(t.mae_model, 1), "psnr_db": round(t.psnr_model, 2),
                                                 "ssim": round(t.ssim_model, 4)},
            "head_mr_skull_bone_dice": {
                "model": round(s.dice_model, 3), "bulk_density": round(s.dice_bulk_density, 3),
                "probability_weighted": round(s.dice_probability_weighted, 3),
                "bone": f"synthetic CT > {BONE_THRESHOLD_HU:g} HU", "reference": "Skull.nrrd on the MR grid (nearest neighbour)"},
            **self.notes,
        }

    def table(self) -> str:
        """The model-vs-baseline table as Markdown."""
        t, s = self.template, self.skull
        rows = ["| method | template pair MAE (HU) | head_mr_skull bone Dice |", "|---|---|---|",
                f"| **model** | **{t.mae_model:.1f}** | **{s.dice_model:.3f}** |",
                f"| bulk density | {t.mae_bulk_density:.1f} | {s.dice_bulk_density:.3f} |",
                f"| probability-weighted | {t.mae_probability_weighted:.1f} | {s.dice_probability_weighted:.3f} |",
                f"| best constant ({t.best_constant_hu:.0f} HU) | {t.mae_best_constant:.1f} | — (no bone) |"]
        return "\n".join(rows)

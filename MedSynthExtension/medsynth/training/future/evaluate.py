"""Held-out evaluation of a future-MRI model against simulated progression and the literature.

For a held-out subject (never seen in training) and a diagnosis and interval:

* regional change **measured on the model's output**: the subject's real DLMUSE parcellation is
  carried through the model's predicted deformation (volume ratio summed over each region, as
  :func:`medsynth.tasks.future.predict_future` measures with ``labels``), compared with the
  literature range for that diagnosis (:mod:`.literature`);
* image similarity to the simulated follow-up of the same subject (what the model was trained
  to imitate): masked SSIM and MAE of the prediction, against the "no change" baseline that
  simply copies the input.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.io import read_image
from medsynth.metrics.synthrad import ssim_map
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.geometry import plan_model_grid, to_model_grid
from medsynth.runtime.generate import run_generator
from medsynth.tasks.future import predict_future
from medsynth.tasks.future_regions import BRAIN_REGIONS, PROBABILITY_PREFIX, REGION_NAMES, group_labels
from medsynth.training.future.dataset import labels_on_grid
from medsynth.training.future.literature import literature_range
from medsynth.training.future.simulate import ProgressionSimulator

#: IXI subjects kept out of training for validation (one woman, one man; the youngest and oldest
#: are not both held out so that training still spans the age range).
HELD_OUT = ("IXI014-HH-1236", "IXI048-HH-1326")
#: Regions reported by the evaluation.
EVALUATED_REGIONS = ("hippocampus", "amygdala", "ventricles", "cortex", "white_matter", "whole_brain")


@dataclass(frozen=True)
class Subject:
    """An IXI subject of ``shared/data/subjects_t1``: T1, DLMUSE parcellation, age and sex."""

    id: str
    t1: Path
    labels: Path
    age: float
    sex: str


def ixi_subjects(folder: Path) -> list[Subject]:
    """The subjects listed in ``IXI_demog_n10.csv`` of ``folder`` (``shared/data/subjects_t1``)."""
    with open(folder / "IXI_demog_n10.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [Subject(row["MRID"], folder / f"{row['MRID']}-T1_ds.nii.gz",
                    folder / "dlmuse" / f"{row['MRID']}-T1_ds_DLMUSE.nii.gz", float(row["Age"]), row["Sex"].strip())
            for row in rows]


@dataclass(frozen=True)
class HeldOutCase:
    """Evaluation of one (subject, diagnosis, interval): annual % change per region measured on the
    model's output and on the simulated follow-up, and image similarity (SSIM unitless, MAE in % of
    the baseline's 99.5th-percentile brain intensity) of the model and of the copy baseline."""

    subject: str
    diagnosis: str
    years: float
    age: float
    model_rates: dict[str, float]
    simulated_rates: dict[str, float]
    ssim_model: float
    ssim_copy: float
    mae_model: float
    mae_copy: float

    def within_literature(self, region: str) -> bool:
        low, high = literature_range(region, self.diagnosis, self.age)
        return low <= self.model_rates[region] <= high


def similarity(reference: np.ndarray, image: np.ndarray, mask: np.ndarray, scale: float) -> tuple[float, float]:
    """(SSIM, MAE %) of ``image`` against ``reference`` inside ``mask``; intensities divided by
    ``scale`` first (SSIM data range 1, 7³ window as :func:`medsynth.metrics.ssim_map`)."""
    x = reference.astype(np.float64) / scale
    y = image.astype(np.float64) / scale
    ssim = float(ssim_map(x, y, data_range=1.0)[mask].mean())
    mae = float(np.abs(x - y)[mask].mean() * 100.0)
    return ssim, mae


def evaluate_subject(model: OnnxGenerator, subject: Subject, diagnoses: Sequence[str], years: float,
                     age: float) -> list[HeldOutCase]:
    """One case per diagnosis for ``subject`` (the simulator is calibrated once per subject)."""
    t1, labels = read_image(subject.t1), read_image(subject.labels)
    simulator = ProgressionSimulator(t1, labels)
    baseline = sitk.GetArrayFromImage(t1).astype(np.float32)
    mask = sitk.GetArrayViewFromImage(labels) > 0
    scale = float(np.percentile(baseline[mask], 99.5))
    cases = []
    for diagnosis in diagnoses:
        result = predict_future(t1, age, subject.sex, diagnosis, years, labels=labels, model=model)
        follow_up = simulator.follow_up(diagnosis, age, years)
        truth = sitk.GetArrayFromImage(follow_up.image)
        predicted = sitk.GetArrayFromImage(result.final.image)
        ssim_model, mae_model = similarity(truth, predicted, mask, scale)
        ssim_copy, mae_copy = similarity(truth, baseline, mask, scale)
        simulated = {name: follow_up.measured_percent_per_year(name) for name in EVALUATED_REGIONS if name != "whole_brain"}
        simulated["whole_brain"] = _whole_brain_rate(follow_up.baseline_ml, follow_up.follow_up_ml, years)
        cases.append(HeldOutCase(subject.id, diagnosis, float(years), float(age),
                                 {name: result.volumes.get(name, years).percent_per_year for name in EVALUATED_REGIONS},
                                 simulated, ssim_model, ssim_copy, mae_model, mae_copy))
    return cases


def region_dice(model: OnnxGenerator, subject: Subject) -> dict[str, float]:
    """Dice of the model's most probable regions against the subject's grouped DLMUSE labels, on the
    model grid (the network's own view; the conditions do not affect the regions)."""
    t1, labels = read_image(subject.t1), read_image(subject.labels)
    card = model.card
    plan = plan_model_grid(t1, card.orientation, card.spacing_mm, card.field_of_view_mm)
    on_grid = to_model_grid(t1, plan, default_value=float(sitk.GetArrayViewFromImage(t1).min()))
    run = run_generator(model, on_grid, {"age": 72.0, "sex": subject.sex, "diagnosis": "CN", "years": 1.0})
    predicted = np.stack([sitk.GetArrayFromImage(run.images[PROBABILITY_PREFIX + name]) for name in REGION_NAMES]).argmax(0)
    truth = group_labels(sitk.GetArrayFromImage(labels_on_grid(labels, plan)))
    return {name: float(2 * np.sum((predicted == k) & (truth == k)) / max(np.sum(predicted == k) + np.sum(truth == k), 1))
            for k, name in enumerate(REGION_NAMES)}


def _whole_brain_rate(before: dict[str, float], after: dict[str, float], years: float) -> float:
    total_before = sum(before[name] for name in BRAIN_REGIONS)
    total_after = sum(after[name] for name in BRAIN_REGIONS)
    return 100.0 * (total_after / total_before - 1.0) / years


def table_markdown(cases: Iterable[HeldOutCase]) -> str:
    """The held-out table: per case, model-measured annual % change (✓ within the literature
    range), the simulator's value in brackets, then SSIM and MAE of the model vs the copy."""
    regions = ("hippocampus", "ventricles", "whole_brain")
    header = ("| subject | dx | years | " + " | ".join(f"{r} %/yr model (sim)" for r in regions)
              + " | SSIM model / copy | MAE % model / copy |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for case in cases:
        cells = [f"{case.model_rates[r]:+.2f}{' ✓' if case.within_literature(r) else ' ✗'} ({case.simulated_rates[r]:+.2f})"
                 for r in regions]
        lines.append(f"| {case.subject} | {case.diagnosis} | {case.years:g} | " + " | ".join(cells)
                     + f" | {case.ssim_model:.4f} / {case.ssim_copy:.4f} | {case.mae_model:.3f} / {case.mae_copy:.3f} |")
    return "\n".join(lines)


def card_metrics(cases: Sequence[HeldOutCase], dice: Sequence[dict[str, float]] = ()) -> dict:
    """Summary numbers for the card's ``validation.metrics`` (``dice``: :func:`region_dice` per subject)."""
    metrics: dict[str, object] = {}
    for name in ("hippocampus", "ventricles", "cortex", "white_matter", "csf_external"):
        if dice:
            metrics[f"region_dice_{name}"] = round(float(np.mean([d[name] for d in dice])), 3)
    for diagnosis in sorted({c.diagnosis for c in cases}, key=("CN", "MCI", "AD").index):
        group = [c for c in cases if c.diagnosis == diagnosis]
        for region in ("hippocampus", "ventricles", "whole_brain"):
            metrics[f"{region}_percent_per_year_{diagnosis}"] = round(float(np.mean([c.model_rates[region] for c in group])), 2)
    metrics["within_literature_range_fraction"] = round(float(np.mean(
        [c.within_literature(r) for c in cases for r in ("hippocampus", "ventricles", "whole_brain")])), 3)
    metrics["ssim_model_mean"] = round(float(np.mean([c.ssim_model for c in cases])), 5)
    metrics["ssim_copy_input_mean"] = round(float(np.mean([c.ssim_copy for c in cases])), 5)
    metrics["mae_model_percent_mean"] = round(float(np.mean([c.mae_model for c in cases])), 4)
    metrics["mae_copy_input_percent_mean"] = round(float(np.mean([c.mae_copy for c in cases])), 4)
    return metrics

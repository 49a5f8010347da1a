"""Scoring anomaly methods on a benchmark (``medsynth evaluate anomaly``; definitions in METRICS.md).

Every case is analysed end to end, as a user's scan would be (registration included), by each
method; both methods share the registration of a case, so they are compared on identical
alignment and brain masks.

* **Voxel metrics** over the lesion cases of the test split, pooled, inside the evaluation region
  (the subject's brain from its label map): AUROC, AUPRC, Dice* (best Dice over thresholds, an
  **upper bound**) and the Dice at the threshold that maximises Dice on the validation split.
* **Operating threshold**: the threshold the card uses for findings (the validation threshold,
  raised until the clean validation scan has no finding): Dice there, and the findings on the
  clean test scans (should be none).
* **Artefacts**: for each type, the average precision of the scan-level artefact score with the
  scans of that type as positives and the clean and lesion scans as negatives (test split); also
  for the residual feature alone (the "model cannot reconstruct it" part) and the accuracy of the
  label (motion / ghosting / spike / none) on the artefact scans.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.artefacts import ARTEFACT_TYPES
from medsynth.benchmarks.anomaly.build import BenchmarkCase, load_manifest
from medsynth.errors import InputError
from medsynth.io import read_image
from medsynth.metrics.anomaly import evaluate_anomaly_maps, scan_average_precision, validation_threshold
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.tasks.anomaly.task import analyse_scan
from medsynth.tasks.anomaly.findings import find_findings
from medsynth.tasks.anomaly.settings import AnomalySettings

Log = Callable[[str], None]
REGION = "brain (the held-out subject's label map, holes filled)"


@dataclass
class CaseOutcome:
    """What each method gave on one case: voxel scores inside the region, artefact verdict, and the
    full score image for clean scans (to count findings once the threshold is known)."""

    case: BenchmarkCase
    labels: np.ndarray
    scores: dict[str, np.ndarray]
    artefact_score: dict[str, float]
    residual_z: dict[str, float]
    artefact_label: dict[str, str]
    score_images: dict[str, sitk.Image] = field(default_factory=dict)
    region_image: sitk.Image | None = None


@dataclass
class MethodReport:
    """Benchmark figures of one method (test split unless said otherwise)."""

    method: str
    validation_threshold: float
    auroc: float
    auprc: float
    dice_upper_bound: float
    dice_at_validation_threshold: float
    operating_threshold: float
    dice_at_operating_threshold: float
    auprc_by_variant: dict[str, float]
    healthy_scans: int
    healthy_scans_with_findings: int
    healthy_findings: int
    artefact_ap: dict[str, float]
    artefact_ap_residual_only: dict[str, float]
    artefact_label_accuracy: float
    lesion_voxels: int
    region_voxels: int


@dataclass
class BenchmarkReport:
    region: str
    cases: dict[str, int]
    methods: dict[str, MethodReport]

    def to_dict(self) -> dict:
        return {"region": self.region, "cases": self.cases, "methods": {k: asdict(v) for k, v in self.methods.items()}}

    def table(self) -> str:
        """A plain-text table, methods side by side."""
        names = list(self.methods)
        rows = [("voxel AUROC", "auroc"), ("voxel AUPRC", "auprc"),
                ("Dice* (upper bound)", "dice_upper_bound"),
                ("Dice at validation threshold", "dice_at_validation_threshold"),
                ("validation threshold (z)", "validation_threshold"),
                ("Dice at operating threshold", "dice_at_operating_threshold"),
                ("operating threshold (z)", "operating_threshold")]
        lines = [f"{'':<34}" + "".join(f"{n:>12}" for n in names)]
        for label, key in rows:
            lines.append(f"{label:<34}" + "".join(f"{getattr(self.methods[n], key):>12.4f}" for n in names))
        variants = sorted({v for m in self.methods.values() for v in m.auprc_by_variant})
        for variant in variants:
            lines.append(f"{'AUPRC, ' + variant + ' lesions':<34}"
                         + "".join(f"{self.methods[n].auprc_by_variant.get(variant, math.nan):>12.4f}" for n in names))
        lines.append(f"{'healthy test scans with findings*':<34}" + "".join(
            f"{f'{m.healthy_scans_with_findings}/{m.healthy_scans}':>12}" for m in self.methods.values()))
        for kind in ARTEFACT_TYPES:
            lines.append(f"{'artefact AP, ' + kind:<34}"
                         + "".join(f"{self.methods[n].artefact_ap.get(kind, math.nan):>12.4f}" for n in names))
            lines.append(f"{'  residual feature only':<34}"
                         + "".join(f"{self.methods[n].artefact_ap_residual_only.get(kind, math.nan):>12.4f}" for n in names))
        lines.append(f"{'artefact label accuracy':<34}"
                     + "".join(f"{self.methods[n].artefact_label_accuracy:>12.4f}" for n in names))
        lines.append("* at the operating threshold. Dice* is an upper bound (threshold chosen on the test data).")
        lines.append(f"Region: {self.region}. Cases: " + ", ".join(f"{k} {v}" for k, v in self.cases.items()))
        return "\n".join(lines)


def score_cases(folder: Path, model: OnnxGenerator, methods: Sequence[str] = ("model", "baseline"),
                settings: AnomalySettings | None = None, splits: Sequence[str] = ("validation", "test"),
                log: Log = print, progress: Callable[[float], None] | None = None) -> list[CaseOutcome]:
    """Analyse every case of the benchmark in ``folder`` (of the given splits) with each method."""
    folder = Path(folder)
    cases = [c for c in load_manifest(folder) if c.split in splits]
    if not cases:
        raise InputError(f"The benchmark in {folder} has no case of split(s) {list(splits)}.")
    outcomes = []
    for number, case in enumerate(cases):
        image = read_image(folder / case.image)
        region = sitk.GetArrayFromImage(read_image(folder / case.brain)) > 0
        labels = sitk.GetArrayFromImage(read_image(folder / case.label))[region] > 0
        results = analyse_scan(image, model, methods, settings=settings, input_description=case.case)
        outcome = CaseOutcome(
            case, labels,
            scores={m: sitk.GetArrayFromImage(r.score)[region] for m, r in results.items()},
            artefact_score={m: r.artefact.score for m, r in results.items()},
            residual_z={m: _residual_feature(r.artefact) for m, r in results.items()},
            artefact_label={m: r.artefact.label for m, r in results.items()})
        if case.kind == "clean":
            outcome.score_images = {m: r.score for m, r in results.items()}
            outcome.region_image = read_image(folder / case.brain)
        outcomes.append(outcome)
        log(f"{case.case}: " + ", ".join(f"{m} artefact {r.artefact.label} ({r.artefact.score:.1f})"
                                         for m, r in results.items()))
        if progress is not None:
            progress((number + 1) / len(cases))
    return outcomes


def _residual_feature(artefact) -> float:
    """The residual feature's z-score (its raw value when the card has no reference for it)."""
    name = "residual" if "residual" in artefact.features else "baseline_residual"
    return artefact.z_scores.get(name, artefact.features[name])


def method_report(outcomes: Sequence[CaseOutcome], method: str, min_finding_ml: float,
                  operating_threshold: float | None = None) -> MethodReport:
    """Figures of ``method``; the validation threshold is fitted on the validation lesions, the
    operating threshold (findings) is the card's (default: the validation threshold)."""
    validation = [o for o in outcomes if o.case.split == "validation" and o.case.kind == "lesion"]
    test = [o for o in outcomes if o.case.split == "test"]
    lesions = [o for o in test if o.case.kind == "lesion"]
    if not validation:
        raise InputError("The benchmark has no validation lesion case to choose the threshold on.")
    threshold = validation_threshold([o.scores[method] for o in validation], [o.labels for o in validation])
    operating = threshold if operating_threshold is None else float(operating_threshold)
    if not lesions:
        raise InputError("The benchmark has no test lesion case to evaluate.")
    voxel = evaluate_anomaly_maps([o.scores[method] for o in lesions], [o.labels for o in lesions], threshold=threshold)
    at_operating = evaluate_anomaly_maps([o.scores[method] for o in lesions], [o.labels for o in lesions],
                                         threshold=operating).dice_at_threshold
    by_variant = {}
    for variant in sorted({o.case.variant for o in lesions}):
        chosen = [o for o in lesions if o.case.variant == variant]
        by_variant[variant] = evaluate_anomaly_maps([o.scores[method] for o in chosen],
                                                    [o.labels for o in chosen]).auprc
    clean = [o for o in test if o.case.kind == "clean"]
    counts = [len(find_findings(o.score_images[method], operating, min_finding_ml, o.region_image)) for o in clean]
    negatives = [o for o in test if o.case.kind in ("clean", "lesion")]
    artefact_ap, residual_ap, correct, total = {}, {}, 0, 0
    for kind in ARTEFACT_TYPES:
        positives = [o for o in test if o.case.kind == kind]
        if not positives or not negatives:
            continue
        chosen = positives + negatives
        truth = [1] * len(positives) + [0] * len(negatives)
        artefact_ap[kind] = scan_average_precision([o.artefact_score[method] for o in chosen], truth)
        residual_ap[kind] = scan_average_precision([o.residual_z[method] for o in chosen], truth)
        correct += sum(o.artefact_label[method] == kind for o in positives)
        total += len(positives)
    return MethodReport(
        method=method, validation_threshold=float(threshold), auroc=voxel.auroc, auprc=voxel.auprc,
        dice_upper_bound=voxel.dice_upper_bound, dice_at_validation_threshold=float(voxel.dice_at_threshold),
        operating_threshold=operating, dice_at_operating_threshold=float(at_operating),
        auprc_by_variant=by_variant, healthy_scans=len(clean), healthy_scans_with_findings=sum(c > 0 for c in counts),
        healthy_findings=int(sum(counts)), artefact_ap=artefact_ap, artefact_ap_residual_only=residual_ap,
        artefact_label_accuracy=correct / total if total else math.nan,
        lesion_voxels=voxel.n_anomalous, region_voxels=voxel.n_voxels)


def benchmark_report(outcomes: Sequence[CaseOutcome], methods: Sequence[str], min_finding_ml: float,
                     operating_thresholds: dict[str, float] | None = None) -> BenchmarkReport:
    counts: dict[str, int] = {}
    for o in outcomes:
        key = f"{o.case.split} {o.case.kind}"
        counts[key] = counts.get(key, 0) + 1
    operating = operating_thresholds or {}
    return BenchmarkReport(REGION, counts, {m: method_report(outcomes, m, min_finding_ml, operating.get(m))
                                            for m in methods})

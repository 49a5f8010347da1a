"""Real lesion shapes implanted into healthy real brains of several domains, scored by the model and the z-score baseline.

Why several domains: a benchmark built from the training scanner measures that scanner. Here the
same held-out lesion shapes (the benchmark's test share of ``lesions_mni``, never used in
training) are implanted, hypo- and hyper-intense at three severities
(:class:`medsynth.benchmarks.anomaly.lesions.LesionImplant`), into each healthy scan given — e.g. an
IXI subject, Colin27, the clinical ``head_mr_skull`` and nilearn's MNI152 2009a — through the
scan's own alignment to MNI space. Per domain: voxel AUROC and AUPRC inside the scored brain, Dice
of the findings at the card's threshold, lesion-wise sensitivity (a finding touches the lesion) and
false-positive findings per case, for the model and the baseline side by side.

``python -m medsynth.benchmarks.anomaly.implanted --data shared/data --out DIR``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.build import SEVERITIES, select_lesions
from medsynth.benchmarks.anomaly.lesions import VARIANTS, LesionImplant, lesion_on_scan
from medsynth.metrics.anomaly import findings_against_reference, voxel_auprc, voxel_auroc
from medsynth.tasks.anomaly.alignment import align_scan
from medsynth.tasks.anomaly.brain_net import brain_mask
from medsynth.tasks.anomaly.task import analyse_scan, model_population_maps

METHODS = ("model", "baseline")


def domain_scans(data: Path) -> list[tuple[str, str, Path]]:
    """(name, role for the built-in model, path) of the healthy domains the benchmark implants into."""
    from medsynth.benchmarks.anomaly.real_scans import real_scans

    wanted = ("subjects_t1/IXI049", "templates/single_subj_T1", "head_mr_skull/MR", "nilearn MNI152 2009a")
    return [(s.name, s.role, s.path) for s in real_scans(data) if s.name in wanted]


def implant_cases(image: sitk.Image, model, lesions: list[Path], seed: int):
    """(lesion name, variant, severity, implanted image, lesion mask) for every lesion × variant."""
    mask = brain_mask(image)
    aligned = align_scan(image, model_population_maps(model), model.card.normalization, mask, None)
    brain = sitk.GetArrayFromImage(mask) > 0
    rng = np.random.default_rng(seed)
    for number, path in enumerate(lesions):
        lesion = lesion_on_scan(sitk.ReadImage(str(path)), image, aligned.registration.inverse(), brain)
        if lesion.sum() == 0:
            continue
        severity = SEVERITIES[number % len(SEVERITIES)]
        for variant in VARIANTS:
            implant = LesionImplant.from_severity(variant, severity, int(rng.integers(2 ** 31)))
            yield path.name, variant, severity, implant.apply(image, lesion, brain), lesion


def case_metrics(results: dict, lesion: np.ndarray) -> dict:
    row = {}
    for method in METHODS:
        result = results[method]
        region = sitk.GetArrayFromImage(result.brain_mask) > 0
        score = sitk.GetArrayFromImage(result.score)
        agreement = findings_against_reference(sitk.GetArrayFromImage(result.finding_labels), lesion)
        row[method] = {"score": score[region], "label": lesion[region], "dice": agreement.dice,
                       "detected": agreement.detected, "false_findings": agreement.false_findings}
    return row


def summarise(rows: list[dict]) -> dict:
    summary = {}
    for method in METHODS:
        scores = [r[method]["score"] for r in rows]
        labels = [r[method]["label"] for r in rows]
        summary[method] = {"auroc": round(voxel_auroc(scores, labels), 3), "auprc": round(voxel_auprc(scores, labels), 3),
                           "dice": round(float(np.mean([r[method]["dice"] for r in rows])), 3),
                           "sensitivity": round(float(np.mean([r[method]["detected"] for r in rows])), 3),
                           "false_findings_per_case": round(float(np.mean([r[method]["false_findings"] for r in rows])), 2)}
    return summary


def markdown_table(table: list[dict]) -> str:
    lines = ["| domain | role | cases | AUROC model / z-score | AUPRC model / z-score | Dice model / z-score | "
             "lesions found model / z-score | false findings per case model / z-score |",
             "|---|---|---:|---|---|---|---|---|"]
    for t in table:
        m, b = t["model"], t["baseline"]
        lines.append(f"| {t['domain']} | {t['role']} | {t['cases']} | {m['auroc']} / {b['auroc']} | {m['auprc']} / "
                     f"{b['auprc']} | {m['dice']} / {b['dice']} | {m['sensitivity']} / {b['sensitivity']} | "
                     f"{m['false_findings_per_case']} / {b['false_findings_per_case']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from medsynth.models import ModelRegistry
    from medsynth.runtime import OnnxGenerator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--lesions", type=int, default=4, help="lesion shapes per domain (each hypo and hyper)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = OnnxGenerator(ModelRegistry.default().find(args.model, task="anomaly"))
    lesions = select_lesions(args.data / "lesions_mni", "test", args.lesions)
    table = []
    for name, role, path in domain_scans(args.data):
        image = sitk.Cast(sitk.ReadImage(str(path)), sitk.sitkFloat32)
        rows = []
        for lesion_name, variant, severity, implanted, lesion in implant_cases(image, model, lesions, args.seed):
            results = analyse_scan(implanted, model, METHODS, input_description=f"{name} + {lesion_name}",
                                   allow_outside=True)
            rows.append(case_metrics(results, lesion))
        table.append({"domain": name, "role": role, "cases": len(rows), **summarise(rows)})
        print(json.dumps(table[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "implanted.json").write_text(json.dumps(table, indent=1))
    (args.out / "implanted.md").write_text(markdown_table(table) + "\n")
    print(markdown_table(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

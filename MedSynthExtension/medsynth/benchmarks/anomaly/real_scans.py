"""The anomaly model on every real scan available: one row per scan, labelled by its role.

Why: an implanted-lesion benchmark measures the scanner it was built from; a user's first scan is
from another one. This table is what a clinician would see per scan with the default threshold:
finding count, total volume, the top finding (volume, peak in RAS mm, whether it lies on the
reference outline), the artefact verdict; for tumour scans, voxel AUROC/AUPRC of the model, the
z-score baseline and the raw intensity (:func:`intensity_score`) against a reference outline. The outline is made by hand-thresholding the FLAIR
of the same person (brain voxels brighter than mean + 3 SD, largest component, dilated 2 mm):
the whole hyperintense tumour and oedema, not a radiologist's label.

Each scan carries its role for the built-in model: used-in-training, used-for-calibration or
untouched (see the model card). Overlay pictures go to ``OUT/pictures/``.

``python -m medsynth.benchmarks.anomaly.real_scans --data shared/data --out DIR [--brain-net]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.build import HELD_OUT_SPLIT
from medsynth.metrics.anomaly import findings_against_reference, voxel_auprc, voxel_auroc
from medsynth.tasks.anomaly.pictures import findings_picture
from medsynth.tasks.anomaly.task import analyse_scan



@dataclass(frozen=True)
class RealScan:
    name: str
    path: Path
    role: str
    content: str
    reference_flair: Path | None = None


def _package_file(package: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / relative
    return path if path.is_file() else None


def real_scans(data: Path) -> list[RealScan]:
    """Every real adult T1 brain scan of the shared folder and the installed packages, with its role."""
    scans = [RealScan("templates/avg152T1", data / "templates/avg152T1.nii.gz", "used-in-training", "healthy"),
             RealScan("templates/single_subj_T1", data / "templates/single_subj_T1.nii.gz", "used-in-training",
                      "healthy")]
    for path in sorted((data / "subjects_t1").glob("IXI*_ds.nii.gz")):
        subject = path.name[:6]
        role = ("used-for-calibration" if subject in HELD_OUT_SPLIT["validation"] else
                "untouched" if subject in HELD_OUT_SPLIT["test"] else "used-in-training")
        scans.append(RealScan(f"subjects_t1/{subject}", path, role, "healthy"))
    scans += [RealScan("head_mr_skull/MR", data / "head_mr_skull/MR.nii.gz", "untouched", "healthy brain"),
              RealScan("stroke/T1", data / "stroke/T1.nii.gz", "untouched", "stroke", data / "stroke/FLAIR.nii.gz"),
              RealScan("brats_glioma/t1n", data / "brats_glioma/t1n.nii.gz", "untouched", "glioma",
                       data / "brats_glioma/t2f.nii.gz"),
              RealScan("aurora_metastasis/t1", data / "aurora_metastasis/t1.nii.gz", "untouched", "metastases",
                       data / "aurora_metastasis/flair.nii.gz")]
    packaged = [("nilearn", "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz", "nilearn MNI152 2009a"),
                ("pydeface", "data/mean_reg2mean.nii.gz", "pydeface mean head")]
    for package, relative, name in packaged:
        path = _package_file(package, relative)
        if path is not None:
            scans.append(RealScan(name, path, "untouched", "healthy"))
    return [s for s in scans if s.path.is_file()]


def reference_outline(flair: sitk.Image, scored: sitk.Image) -> np.ndarray:
    """Hand-thresholded FLAIR hyperintensity on the scored brain: > mean + 3 SD, largest component, +2 mm."""
    from medsynth.tasks.masks import largest_component

    moved = sitk.Resample(flair, scored, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    values, brain = sitk.GetArrayFromImage(moved), sitk.GetArrayFromImage(scored) > 0
    inside = values[brain]
    bright = largest_component(brain & (values > inside.mean() + 3 * inside.std()))
    grown = sitk.BinaryDilate(sitk.Cast(sitk.GetImageFromArray(bright.astype(np.uint8)), sitk.sitkUInt8),
                              [max(1, round(2.0 / s)) for s in scored.GetSpacing()])
    return (sitk.GetArrayFromImage(grown) > 0) & brain


def intensity_score(image: sitk.Image, brain_mask: sitk.Image) -> np.ndarray:
    """The raw-intensity baseline on the brain mask's grid: how far each voxel is from the brain's median
    intensity, either way (no model, no template; a tumour that is darker or brighter scores high)."""
    moved = sitk.Resample(image, brain_mask, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    values = sitk.GetArrayFromImage(moved)
    return np.abs(values - np.median(values[sitk.GetArrayFromImage(brain_mask) > 0]))


def evaluate_scan(scan: RealScan, model, pictures: Path, use_brain_net: bool) -> dict:
    """One row of the table (and its overlay picture)."""
    image = sitk.ReadImage(str(scan.path))
    mask = None
    if use_brain_net:
        from medsynth.tasks.anomaly.brain_net import brain_mask
        mask = brain_mask(image)
    results = analyse_scan(image, model, ("model", "baseline"), brain_mask=mask, input_description=scan.name,
                           allow_outside=True)
    result = results["model"]
    row = {"scan": scan.name, "role": scan.role, "content": scan.content, "findings": len(result.findings),
           "total_ml": round(sum(f.volume_ml for f in result.findings), 1), "artefact": result.artefact.label,
           "top_ml": None, "top_peak_ras_mm": None, "top_on_reference": None,
           "outside_domain": result.provenance.outside_domain}
    if result.findings:
        top = max(result.findings, key=lambda f: f.volume_ml)
        row.update(top_ml=round(top.volume_ml, 1), top_peak_ras_mm=[round(v) for v in top.peak_ras_mm])
    if scan.reference_flair is not None:
        outline = reference_outline(sitk.ReadImage(str(scan.reference_flair)), result.brain_mask)
        brain = sitk.GetArrayFromImage(result.brain_mask) > 0
        labels = sitk.GetArrayFromImage(result.finding_labels)
        row["reference_ml"] = round(float(outline.sum() * np.prod(image.GetSpacing()) / 1000), 1)
        agreement = findings_against_reference(labels, outline)
        row["dice"], row["false_findings"] = round(agreement.dice, 3), agreement.false_findings
        if result.findings:
            row["top_on_reference"] = bool(outline[labels == top.id].any())
            row["other_ml"] = round(sum(f.volume_ml for f in result.findings if f.id != top.id), 1)
        scores = {method: sitk.GetArrayFromImage(res.score)[brain] for method, res in results.items()}
        scores["intensity"] = intensity_score(image, result.brain_mask)[brain]
        for method, score in scores.items():
            row[f"auroc_{method}"] = round(voxel_auroc([score], [outline[brain]]), 3)
            row[f"auprc_{method}"] = round(voxel_auprc([score], [outline[brain]]), 3)
    findings_picture(image, result, pictures / (scan.name.replace("/", "_").replace(" ", "_") + ".png"))
    return row


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (the README and model-card form)."""
    head = ("| scan | role | content | findings | total mL | top mL | top on reference | other mL | artefact | "
            "AUROC model / z-score / raw intensity | AUPRC model / z-score / raw intensity | Dice | false findings |\n"
            "|---|---|---|---:|---:|---:|---|---:|---|---|---|---:|---:|")
    lines = [head]
    for r in rows:
        auroc, auprc = (" / ".join(str(r.get(f"{metric}_{method}", "")) for method in ("model", "baseline", "intensity"))
                        if f"{metric}_model" in r else "" for metric in ("auroc", "auprc"))
        on = "" if r["top_on_reference"] is None else ("yes" if r["top_on_reference"] else "no")
        lines.append(f"| {r['scan']} | {r['role']} | {r['content']} | {r['findings']} | {r['total_ml']} | "
                     f"{r['top_ml'] or ''} | {on} | {r.get('other_ml', '')} | {r['artefact']} | {auroc} | {auprc} | "
                     f"{r.get('dice', '')} | {r.get('false_findings', '')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from medsynth.models import ModelRegistry
    from medsynth.runtime import OnnxGenerator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--brain-net", action="store_true", help="score inside deepbet's brain mask")
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    model = OnnxGenerator(ModelRegistry.default().find(args.model, task="anomaly"))
    pictures = args.out / "pictures"
    pictures.mkdir(parents=True, exist_ok=True)
    rows = []
    for scan in real_scans(args.data):
        rows.append(evaluate_scan(scan, model, pictures, args.brain_net))
        print(json.dumps(rows[-1]), flush=True)
    (args.out / "real_scans.json").write_text(json.dumps(rows, indent=1))
    (args.out / "real_scans.md").write_text(markdown_table(rows) + "\n")
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

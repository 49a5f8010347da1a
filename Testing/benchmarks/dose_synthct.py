"""Dose benchmark of the built-in synthetic CT against the baselines, per data source.

    .venv-dose/bin/python Testing/benchmarks/dose_synthct.py [--data ../shared/data] [--grid-mm 4] [--json out.json]
                                                             [--out-dir out/dose-benchmark]

Runs in the dose venv (``make dose-venv``; pyRadPlan). For each data source with a real MR/CT pair,
the built-in ``synthct-head`` model and the baselines each give an sCT; one plan per modality
(photon: 5 coplanar fields, proton: one lateral field; target: the automatic 15 mm sphere at the
deepest point of the CT's head) is optimised on the real CT and recomputed on every sCT. Printed per
sCT: image MAE (HU, in the CT's head mask), dose MAE (% of prescription, CT dose >= 90 % Rx), gamma
2 %/2 mm pass rate, target D98 difference (sCT - CT, % of prescription) and, for protons, the range
shift on the central ray (R80 of sCT - CT, mm). With ``--out-dir``, the dose pictures and volumes of
every sCT go to ``DIR/<source>/<sCT>/<modality>/``.

Baselines (:mod:`medsynth.tasks.synthct_baselines`): bulk density and probability-weighted from the
SPM tissue probability map on the template grid; water-equivalent (0 HU) and the best constant (the
median HU of the CT, an oracle) inside the CT's head mask, air (-1000 HU) outside. Both constant
baselines borrow the real CT's outline, which a real constant sCT would take from the MR.

Data sources and how the model saw them (its card, ``training.data`` and ``validation``):

* ``template pair`` — MR ``templates/avg152T1`` → CT ``templates/scct_hu`` (2 mm MNI):
  **used-for-calibration**: never in training, but its image MAE chose the recipe, and the baselines'
  class HU are medians of this CT.
* ``CT template + simulated T1`` — the same CT with the T1 simulated from its own tissue priors
  (``Testing/data/dossier_cohort/scct_template``, the CI dossier's case): **used-for-calibration**
  (the CT), the MR never seen; a phantom MR, so an easier input than a scan.

No other source has a real MR and CT of one head: ``ct_head/`` (used-in-training) has no MR and
``head_mr_skull/`` (used-for-calibration) has no CT, so they cannot enter a dose comparison.
The dose grid is coarse (4 mm by default) so that the run takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.dose.cohort import write_evaluation
from medsynth.dose.engine import PRESCRIPTION_GY
from medsynth.dose.evaluate import evaluate_doses
from medsynth.metrics.synthrad import mae_2023
from medsynth.tasks import synthct_baselines as baselines
from medsynth.tasks.synthct import synth_ct
from medsynth.training.synthct.validation import template_head_mask

REPO = Path(__file__).resolve().parents[2]
#: name -> (MR, CT, label); relative paths are under --data, absolute ones travel with the repository.
SOURCES = {
    "template pair": ("templates/avg152T1.nii.gz", "templates/scct_hu.nii.gz", "used-for-calibration"),
    "CT template + simulated T1": (str(REPO / "Testing/data/dossier_cohort/scct_template/mr.nii.gz"),
                                   str(REPO / "Testing/data/dossier_cohort/scct_template/ct.nii.gz"),
                                   "used-for-calibration"),
}
AIR_HU = -1000.0


def _like(array: np.ndarray, reference: sitk.Image) -> sitk.Image:
    image = sitk.GetImageFromArray(np.asarray(array, np.float32))
    image.CopyInformation(reference)
    return image


def candidate_scts(mr: sitk.Image, ct: sitk.Image, data: Path) -> tuple[dict[str, sitk.Image], np.ndarray]:
    """The model's sCT and the baselines' on the CT grid, and the CT's head mask (numpy order)."""
    ct_hu = sitk.GetArrayFromImage(ct)
    head = template_head_mask(ct_hu)
    probabilities = baselines.tpm_probabilities(sitk.ReadImage(str(data / "templates" / "TPM.nii.gz")), mr)
    constant = baselines.best_constant(ct_hu, head)
    scts = {
        "synthct-head (model)": sitk.Cast(synth_ct(mr).ct, sitk.sitkFloat32),
        "bulk density (TPM)": _like(baselines.bulk_density(probabilities), ct),
        "probability-weighted (TPM)": _like(baselines.probability_weighted(probabilities), ct),
        "water-equivalent 0 HU": _like(np.where(head, 0.0, AIR_HU), ct),
        f"best constant {constant:.0f} HU": _like(np.where(head, constant, AIR_HU), ct),
    }
    return scts, head


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.split(" (")[0]).strip("_")


def run_source(name: str, data: Path, grid_mm: float, out_dir: Path | None = None) -> list[dict]:
    """Rows (one per sCT and modality) for one data source."""
    mr_path, ct_path, label = SOURCES[name]
    mr = sitk.ReadImage(str(data / mr_path))
    ct = sitk.ReadImage(str(data / ct_path), sitk.sitkFloat32)
    scts, head = candidate_scts(mr, ct, data)
    ct_hu = sitk.GetArrayFromImage(ct)
    rows = []
    for modality in ("photon", "proton"):
        started = time.perf_counter()
        results = evaluate_doses(ct, scts, modality=modality, grid_mm=grid_mm)
        seconds = time.perf_counter() - started
        for sct_name, result in results.items():
            c = result.comparison
            if out_dir is not None:
                write_evaluation(out_dir / _slug(name) / _slug(sct_name) / modality, ct, scts[sct_name], result,
                                 PRESCRIPTION_GY, f"{name}: {sct_name}, {modality}")
            rows.append({
                "source": name, "label": label, "sct": sct_name, "modality": modality,
                "image_mae_hu": float(mae_2023(ct_hu, sitk.GetArrayFromImage(scts[sct_name]), head)),
                "dose_mae_percent": c.dose_mae_percent, "gamma_pass_percent": c.gamma_pass_rate_percent,
                "d98_diff_percent": 100.0 * (c.sct.target_d98 - c.ct.target_d98) / PRESCRIPTION_GY,
                "range_shift_mm": result.range_shift_mm, "target": result.target_note, "seconds_all_scts": seconds,
            })
    return rows


def table(rows: list[dict]) -> str:
    """Markdown table of the rows."""
    lines = ["| source (label) | sCT | modality | image MAE (HU) | dose MAE (% Rx) | gamma 2%/2mm (%) | ΔD98 (% Rx) "
             "| range shift (mm) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        shift = "—" if r["range_shift_mm"] is None else f"{r['range_shift_mm']:+.2f}"
        lines.append(f"| {r['source']} ({r['label']}) | {r['sct']} | {r['modality']} | {r['image_mae_hu']:.1f} | "
                     f"{r['dose_mae_percent']:.2f} | {r['gamma_pass_percent']:.1f} | {r['d98_diff_percent']:+.2f} | {shift} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--grid-mm", type=float, default=4.0, help="dose grid (mm), default 4")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--out-dir", type=Path, help="dose pictures and volumes of every sCT here")
    args = parser.parse_args(argv)
    if not (args.data / "templates" / "scct_hu.nii.gz").is_file():
        print(f"dose_synthct: no template pair under {args.data}; pass --data", file=sys.stderr)
        return 2
    rows = [row for source in SOURCES for row in run_source(source, args.data, args.grid_mm, args.out_dir)]
    print(f"dose grid {args.grid_mm:g} mm; target: {rows[0]['target']}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

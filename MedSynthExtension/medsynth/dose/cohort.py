"""Dose evaluation of many CT/sCT pairs: the cases, one row per case and modality, and the files.

A cohort is either a folder in the SynthRAD layout of ``medsynth evaluate sct --cohort`` (one
sub-folder per case with ``ct``, ``sct``, optional ``mask`` and ``target`` images) or a CSV file
with the columns ``case, ct, sct`` and optionally ``mask, target`` (paths relative to the CSV's
folder). A case that cannot be evaluated gets its error in its row; the others go on.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import SimpleITK as sitk

from medsynth.errors import InputError, MedSynthError
from medsynth.io import IMAGE_SUFFIXES, read_image, write_image
from medsynth.io.hu_check import check_looks_like_ct
from medsynth.metrics.dose import DoseComparison

#: Columns of the per-case table (CSV and printed table), after ``case`` and ``modality``.
METRIC_COLUMNS = ("gamma_pass_percent", "dose_mae_percent", "d98_diff_percent", "ct_conformity", "sct_conformity",
                  "range_shift_mm")


@dataclass(frozen=True)
class DoseCase:
    """The files of one case (``mask`` and ``target`` optional)."""

    case: str
    ct: Path
    sct: Path | None
    mask: Path | None = None
    target: Path | None = None


@dataclass(frozen=True)
class CaseDose:
    """One case under one modality: its metrics, or why there are none."""

    case: str
    modality: str
    comparison: DoseComparison | None
    target_note: str = ""
    range_shift_mm: float | None = None
    error: str | None = None

    def row(self, prescription_gy: float) -> dict[str, object]:
        """The table row; metric cells empty when the case failed."""
        values = dict.fromkeys(METRIC_COLUMNS, "")
        c = self.comparison
        if c is not None:
            values.update(gamma_pass_percent=round(c.gamma_pass_rate_percent, 3),
                          dose_mae_percent=round(c.dose_mae_percent, 4),
                          d98_diff_percent=round(100.0 * (c.sct.target_d98 - c.ct.target_d98) / prescription_gy, 3),
                          ct_conformity=round(c.ct.target_conformity, 4), sct_conformity=round(c.sct.target_conformity, 4),
                          range_shift_mm="" if self.range_shift_mm is None else round(self.range_shift_mm, 3))
        return {"case": self.case, "modality": self.modality, **values, "target": self.target_note,
                "error": self.error or ""}


def read_cohort(source: Path, sct_dir: Path | None = None) -> list[DoseCase]:
    """The cases of a cohort folder or CSV file (see module docstring)."""
    if source.is_file():
        if sct_dir is not None:
            raise InputError("--sct-dir goes with a cohort folder; a cohort CSV names each sCT itself.")
        return _read_csv(source)
    from medsynth.cli.evaluate_cmd import find_cases  # noqa: PLC0415 - the one SynthRAD-layout reader

    return [DoseCase(c.case, c.ct, c.sct, c.mask, _target_in(c.ct.parent)) for c in find_cases(source, sct_dir)]


def _target_in(folder: Path) -> Path | None:
    found = [folder / f"target{suffix}" for suffix in IMAGE_SUFFIXES if (folder / f"target{suffix}").is_file()]
    if len(found) > 1:
        raise InputError(f"{folder} holds several 'target' images; keep exactly one.")
    return found[0] if found else None


def _read_csv(path: Path) -> list[DoseCase]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"case", "ct", "sct"} <= set(rows[0]):
        raise InputError(f"{path} needs a header with the columns case, ct, sct (and optionally mask, target).")
    base = path.parent

    def resolve(value: str | None) -> Path | None:
        return base / value.strip() if value and value.strip() else None

    names = [row["case"].strip() for row in rows]
    if len(set(names)) != len(names) or not all(names):
        raise InputError(f"{path}: every row needs a case name of its own.")
    return [DoseCase(name, resolve(row["ct"]), resolve(row["sct"]), resolve(row.get("mask")), resolve(row.get("target")))
            for name, row in zip(names, rows)]


def read_case_images(case: DoseCase) -> tuple[sitk.Image, sitk.Image, sitk.Image | None, sitk.Image | None]:
    """CT, sCT, mask and target of a case; the CT and the sCT must hold HU."""
    if case.sct is None:
        raise InputError("no sCT image")
    ct, sct = read_image(case.ct), read_image(case.sct)
    check_looks_like_ct(ct, f"CT {case.ct.name}", "Give the real CT of the case.")
    check_looks_like_ct(sct, f"sCT {case.sct.name}", "Give the synthetic CT (HU), not its MR input.")
    mask, target = (read_image(p) if p is not None else None for p in (case.mask, case.target))
    return ct, sct, mask, target


def write_evaluation(folder: str | os.PathLike, ct: sitk.Image, sct: sitk.Image, result, prescription_gy: float,
                     title: str) -> None:
    """Dose, difference and gamma volumes and the two pictures of one evaluation into ``folder``."""
    from medsynth.dose.pictures import write_dose_pictures  # noqa: PLC0415

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_image(result.ct_dose, folder / "ct_dose.nii.gz")
    write_image(result.sct_dose, folder / "sct_dose.nii.gz")
    write_image(result.sct_dose - result.ct_dose, folder / "dose_difference.nii.gz")
    write_image(result.gamma, folder / "gamma.nii.gz")
    write_dose_pictures(ct, sct, result, prescription_gy, folder, title)


def evaluate_cohort(cases: Sequence[DoseCase], modalities: Sequence[str], grid_mm: float | None = None,
                    out_dir: Path | None = None, progress: Callable[[float], None] | None = None) -> list[CaseDose]:
    """Every case under every modality; with ``out_dir``, files into ``out_dir/<case>/<modality>/``."""
    from medsynth.dose.engine import PRESCRIPTION_GY  # noqa: PLC0415 - pyRadPlan is optional
    from medsynth.dose.evaluate import evaluate_dose  # noqa: PLC0415

    report = progress or (lambda fraction: None)
    steps = len(cases) * len(modalities)
    results = []
    for i, case in enumerate(cases):
        try:
            images = read_case_images(case)
        except MedSynthError as exc:
            results += [CaseDose(case.case, m, None, error=str(exc)) for m in modalities]
            continue
        for j, modality in enumerate(modalities):
            done = i * len(modalities) + j

            def step(fraction: float, done: int = done) -> None:
                report((done + fraction) / steps)

            try:
                result = evaluate_dose(images[0], images[1], images[2], images[3], modality, grid_mm, step)
            except MedSynthError as exc:
                results.append(CaseDose(case.case, modality, None, error=str(exc)))
                continue
            results.append(CaseDose(case.case, modality, result.comparison, result.target_note, result.range_shift_mm))
            if out_dir is not None:
                write_evaluation(out_dir / case.case / modality, images[0], images[1], result, PRESCRIPTION_GY,
                                 f"{case.case}, {modality}: synthetic CT vs CT")
    report(1.0)
    return results


def cohort_csv(results: Sequence[CaseDose], prescription_gy: float) -> str:
    """The per-case table as CSV text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["case", "modality", *METRIC_COLUMNS, "target", "error"],
                            lineterminator="\n")
    writer.writeheader()
    for r in results:
        writer.writerow(r.row(prescription_gy))
    return buffer.getvalue()

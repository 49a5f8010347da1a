"""The figures and pictures of one case of a synthetic-CT dossier: the model on the MR, then the sCT
against the real CT in image, geometry and dose terms.

A case folder holds ``mr.<ext>`` and ``ct.<ext>`` on one grid, optionally ``mask``, ``target`` and a
one-line ``source.txt`` that says how the model saw the data (used-in-training, used-for-calibration,
untouched); a case without it is reported as "unlabelled".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.domain import enforce_domain
from medsynth.errors import InputError
from medsynth.io import IMAGE_SUFFIXES, read_image
from medsynth.io.hu_check import check_looks_like_ct
from medsynth.metrics.geometry import body_mask, evaluate_geometry
from medsynth.metrics.synthrad import evaluate_sct
from medsynth.models.registry import ModelEntry
from medsynth.render import overlay_picture, write_png

#: HU window of the image pictures (CT | sCT | |difference|).
IMAGE_WINDOW_HU = (-250.0, 1000.0)


@dataclass
class CaseReport:
    """Everything the dossier shows about one case."""

    case: str
    source: str
    domain: str
    figures: dict[str, float | None] = field(default_factory=dict)
    pictures: list[tuple[str, Path]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_dossier_cases(cohort: Path) -> list[Path]:
    """Sub-folders of ``cohort`` holding an ``mr`` and a ``ct`` image, sorted."""
    if not cohort.is_dir():
        raise InputError(f"Cohort folder not found: {cohort}.")
    cases = [folder for folder in sorted(p for p in cohort.iterdir() if p.is_dir())
             if _image(folder, "mr") is not None and _image(folder, "ct") is not None]
    if not cases:
        raise InputError(f"No case in {cohort}: a case is a sub-folder with an 'mr' and a 'ct' image "
                         f"({', '.join(IMAGE_SUFFIXES)}).")
    return cases


def _image(folder: Path, stem: str) -> Path | None:
    return next((folder / f"{stem}{s}" for s in IMAGE_SUFFIXES if (folder / f"{stem}{s}").is_file()), None)


def _source(folder: Path) -> str:
    path = folder / "source.txt"
    return path.read_text(encoding="utf-8").strip().splitlines()[0] if path.is_file() else "unlabelled"


def evaluate_case(folder: Path, entry: ModelEntry, modalities: Sequence[str], grid_mm: float | None,
                  pictures_dir: Path, progress: Callable[[float], None] | None = None) -> CaseReport:
    """Run the model on the case's MR and score its sCT (see module docstring)."""
    from medsynth.dose.engine import PRESCRIPTION_GY  # noqa: PLC0415 - the dose extra
    from medsynth.dose.evaluate import evaluate_dose  # noqa: PLC0415
    from medsynth.dose.pictures import write_dose_pictures  # noqa: PLC0415
    from medsynth.tasks.synthct import synth_ct  # noqa: PLC0415

    report = progress or (lambda fraction: None)
    mr, ct = read_image(_image(folder, "mr")), read_image(_image(folder, "ct"))
    check_looks_like_ct(ct, f"{folder.name}/ct", "Give the real CT of the case.")
    mask, target = (read_image(p) if (p := _image(folder, stem)) is not None else None for stem in ("mask", "target"))
    check = enforce_domain(mr, entry.card, allow_outside=True)
    domain = "inside" if check.inside else f"outside: {'; '.join(check.problems)}"
    sct = synth_ct(mr, entry, allow_outside=True).ct
    sct = sitk.Resample(sct, ct, sitk.Transform(), sitk.sitkLinear, -1024.0, sitk.sitkFloat32)
    case = CaseReport(folder.name, _source(folder), domain)
    ct_hu, sct_hu = sitk.GetArrayFromImage(ct).astype(np.float32), sitk.GetArrayFromImage(sct)
    inside = sitk.GetArrayFromImage(mask) > 0 if mask is not None else body_mask(ct_hu)
    image = evaluate_sct(ct_hu, sct_hu, inside, "2023")
    case.figures.update(image_mae_hu=image.mae, image_psnr_db=image.psnr, image_ssim=image.ssim)
    for structure in evaluate_geometry(ct, sct):
        case.figures[f"{structure.name}_dice"] = structure.dice
        case.figures[f"{structure.name}_hd95_mm"] = structure.hd95_mm
    folder_out = pictures_dir / folder.name
    folder_out.mkdir(parents=True, exist_ok=True)
    strip = write_png(_image_strip(ct, sct, inside), folder_out / "image.png", check.stamp)
    case.pictures.append(("CT | synthetic CT | |difference| in the body (0-300 HU)", strip))
    report(0.2)
    for index, modality in enumerate(modalities):
        result = evaluate_dose(ct, sct, mask, target, modality, grid_mm)
        c = result.comparison
        case.figures[f"{modality}_gamma_pass_percent"] = c.gamma_pass_rate_percent
        case.figures[f"{modality}_dose_mae_percent"] = c.dose_mae_percent
        case.figures[f"{modality}_d98_diff_percent"] = 100.0 * (c.sct.target_d98 - c.ct.target_d98) / PRESCRIPTION_GY
        if result.range_shift_mm is not None:
            case.figures[f"{modality}_range_shift_mm"] = result.range_shift_mm
            case.figures[f"{modality}_range_shift_abs_mm"] = abs(result.range_shift_mm)
        dose_png, dvh_png = write_dose_pictures(ct, sct, result, PRESCRIPTION_GY, folder_out / modality,
                                                f"{folder.name}, {modality}: synthetic CT vs CT")
        case.pictures += [(f"{modality}: CT dose | sCT dose | |difference| (0-10 % Rx) | gamma (0-2)", dose_png),
                          (f"{modality}: DVH, CT solid, synthetic CT dashed", dvh_png)]
        case.notes.append(f"{modality} target: {result.target_note}")
        report(0.2 + 0.8 * (index + 1) / len(modalities))
    return case


def _image_strip(ct: sitk.Image, sct: sitk.Image, body: np.ndarray) -> np.ndarray:
    """CT | sCT | |sCT - CT| inside the body (air outside the head differs by tens of HU and says nothing)."""
    from medsynth.dose.pictures import side_by_side  # noqa: PLC0415

    difference = np.abs(sitk.GetArrayFromImage(sct) - sitk.GetArrayFromImage(ct).astype(np.float32)) * body
    difference_image = sitk.GetImageFromArray(difference.astype(np.float32))
    difference_image.CopyInformation(ct)
    return side_by_side([overlay_picture(ct, window=IMAGE_WINDOW_HU), overlay_picture(sct, window=IMAGE_WINDOW_HU),
                         overlay_picture(ct, difference_image, heat_range=(0.0, 300.0), threshold=20.0, opacity=0.8,
                                         window=IMAGE_WINDOW_HU)])

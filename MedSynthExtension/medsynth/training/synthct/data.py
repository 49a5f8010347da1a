"""Paired MR/CT folders in the SynthRAD layouts, prepared on the model grid.

* SynthRAD2023 task 1: ``<case>/mr.nii.gz``, ``ct.nii.gz``, ``mask.nii.gz``;
* SynthRAD2025 task 1: the same names with ``.mha`` (cases grouped under region folders such as
  ``Task1/HN/1HNA001/``).

Cases are found at any depth. Each case is put on the model grid exactly as the runtime will put
an input (:func:`medsynth.geometry.plan_model_grid` from the card's spacing and orientation), its
MR normalised with the card's scheme, its CT clipped to the HU range, its mask resampled with
nearest neighbour (a case without a mask gets :func:`medsynth.tasks.masks.head_mask` of its MR).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.geometry import plan_model_grid, to_model_grid
from medsynth.io import read_image
from medsynth.normalize import normalize
from medsynth.tasks.masks import head_mask
from medsynth.training.synthct.spec import HU_RANGE, SynthCTSpec
from medsynth.training.synthct.volumes import TrainingVolume

_SUFFIXES = (".nii.gz", ".nii", ".mha")


@dataclass(frozen=True)
class PairedCase:
    """File paths of one case (``mask`` may be None)."""

    name: str
    mr: Path
    ct: Path
    mask: Path | None


def _named(folder: Path, stem: str) -> Path | None:
    for suffix in _SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def find_cases(root: str | Path) -> list[PairedCase]:
    """Every folder under ``root`` (itself included) holding ``mr.*`` and ``ct.*``, sorted by path.

    Raises :class:`InputError` when there is none, naming the layouts it looks for.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"Training data folder not found: {root}.")
    folders = sorted({path.parent for suffix in _SUFFIXES for path in root.rglob(f"mr{suffix}")})
    cases = []
    for folder in folders:
        mr, ct = _named(folder, "mr"), _named(folder, "ct")
        if mr is not None and ct is not None:
            name = str(folder.relative_to(root)) if folder != root else folder.name
            cases.append(PairedCase(name, mr, ct, _named(folder, "mask")))
    if not cases:
        raise InputError(f"No paired cases found under {root}. Expected SynthRAD2023 folders "
                         "<case>/mr.nii.gz + ct.nii.gz (+ mask.nii.gz) or SynthRAD2025 <case>/mr.mha + ct.mha (+ mask.mha).")
    return cases


def split_cases(cases: list[PairedCase], validation_fraction: float, seed: int) -> tuple[list[PairedCase], list[PairedCase]]:
    """A seeded random split by case (never by slice: slices of one patient are not independent)."""
    if not 0 <= validation_fraction < 1:
        raise ValueError("validation_fraction must be in [0, 1)")
    order = np.random.default_rng(seed).permutation(len(cases))
    count = int(round(validation_fraction * len(cases)))
    if validation_fraction > 0 and len(cases) > 1:
        count = min(max(count, 1), len(cases) - 1)
    validation = sorted(int(i) for i in order[:count])
    training = sorted(int(i) for i in order[count:])
    return [cases[i] for i in training], [cases[i] for i in validation]


def prepare_case(case: PairedCase, spec: SynthCTSpec) -> TrainingVolume:
    """Read one case and put it on the model grid (see module docstring)."""
    mr = read_image(case.mr)
    ct = read_image(case.ct)
    mask = read_image(case.mask) if case.mask is not None else head_mask(mr, spec.mask_margin_mm,
                                                                         spec.mask_threshold_fraction)
    plan = plan_model_grid(mr, spec.orientation, spec.spacing_mm)
    background = float(sitk.GetArrayViewFromImage(mr).min())
    mr_grid = sitk.GetArrayFromImage(to_model_grid(mr, plan, default_value=background))
    ct_grid = sitk.GetArrayFromImage(to_model_grid(_on_grid(ct, mr), plan, default_value=HU_RANGE[0]))
    mask_grid = sitk.GetArrayFromImage(to_model_grid(_on_grid(mask, mr, nearest=True), plan)) > 0.5
    network_input = normalize(mr_grid, spec.normalization)
    return TrainingVolume(case.name, network_input, np.clip(ct_grid, *HU_RANGE), mask_grid)


def _on_grid(image: sitk.Image, reference: sitk.Image, nearest: bool = False) -> sitk.Image:
    """``image`` resampled onto ``reference``'s grid when their headers differ (float round-off aside)."""
    same = (image.GetSize() == reference.GetSize()
            and np.allclose(image.GetSpacing(), reference.GetSpacing(), rtol=1e-4)
            and np.allclose(image.GetOrigin(), reference.GetOrigin(), atol=1e-3)
            and np.allclose(image.GetDirection(), reference.GetDirection(), atol=1e-4))
    if same:
        copy = sitk.Image(image)
        copy.CopyInformation(reference)
        return copy
    interpolator = sitk.sitkNearestNeighbor if nearest else sitk.sitkLinear
    return sitk.Resample(image, reference, sitk.Transform(), interpolator, HU_RANGE[0] if not nearest else 0.0)

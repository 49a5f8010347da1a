"""Healthy T1 scans → training volumes in the model's space, plus the template and brain prior.

Input folders are BIDS (``sub-*/[ses-*/]anat/*_T1w.nii[.gz]``) or flat (image files directly in
the folder). Brain label maps (any labels, > 0 = brain, e.g. DLMUSE parcellations) are matched by
file-name prefix in a labels folder; they are only used to build the brain prior, which the run
time then uses for every scan. Images already on the MNI grid (templates) may be added.

Two passes, so training sees scans aligned exactly as the run time aligns them:

1. every scan is registered to an MNI template image (e.g. SPM's ``avg152T1``); the aligned
   label maps give the brain prior, the aligned, brain-normalised heads the healthy template;
2. every scan is aligned again, now with the run-time code
   (:func:`medsynth.tasks.anomaly.alignment.align_scan`) against that healthy template.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.build import image_stem, labels_for
from medsynth.errors import InputError
from medsynth.io import IMAGE_SUFFIXES, read_image
from medsynth.models.card import Normalization
from medsynth.tasks.anomaly.alignment import BRAIN_PRIOR_LEVEL, align_scan
from medsynth.tasks.anomaly.registration import register_affine, resample_to
from medsynth.tasks.anomaly.space import MNI_SIZE_XYZ, PopulationMaps, mni_reference
from medsynth.tasks.masks import head_mask

Log = Callable[[str], None]


@dataclass(frozen=True)
class HealthyScan:
    """A healthy T1 file, its brain label map (optional) and whether it is already on the MNI grid."""

    name: str
    path: Path
    labels: Path | None = None
    in_mni: bool = False


@dataclass
class PreparedScan:
    """A training volume on the MNI grid: normalised masked input and its brain mask (z, y, x)."""

    name: str
    network_input: np.ndarray
    brain_mask: np.ndarray


def find_healthy_scans(folder: Path, labels_folder: Path | None = None,
                       exclude: Sequence[str] = ()) -> list[HealthyScan]:
    """T1 scans of a BIDS or flat folder (sorted), minus names starting with any of ``exclude``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"Healthy-scan folder not found: {folder}.")
    if any(p.is_dir() and p.name.startswith("sub-") for p in folder.iterdir()):
        files = sorted(p for p in folder.glob("sub-*/**/anat/*_T1w.nii*"))
    else:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES))
    scans = []
    for path in files:
        stem = image_stem(path)
        if any(stem.startswith(prefix) for prefix in exclude):
            continue
        scans.append(HealthyScan(stem, path, labels_for(path, labels_folder)))
    if not scans:
        raise InputError(f"No T1 images found in {folder} (flat folder of images, or BIDS sub-*/anat/*_T1w.nii.gz).")
    return scans


def normalised_head(head: np.ndarray, brain: np.ndarray, normalization: Normalization) -> np.ndarray:
    """The whole head scaled like the network input (the brain's percentiles → target range), clipped."""
    low, high = np.percentile(head[brain & (head != 0)], [normalization.lower_percentile, normalization.upper_percentile])
    t_low, t_high = normalization.target_range
    scaled = (np.clip(head, low, high) - low) / max(high - low, 1e-6) * (t_high - t_low) + t_low
    return scaled.astype(np.float32)


def build_template_and_prior(scans: Sequence[HealthyScan], mni_template: sitk.Image, normalization: Normalization,
                             log: Log = print) -> tuple[np.ndarray, np.ndarray]:
    """Pass 1: the healthy template (mean normalised head) and brain prior (mean aligned label mask)."""
    reference = mni_reference()
    fixed_mask = head_mask(mni_template, margin_mm=4.0, threshold_fraction=0.5)
    heads, label_masks = [], []
    for scan in scans:
        image = read_image(scan.path)
        if scan.in_mni:
            transform = sitk.Transform()
        else:
            transform = register_affine(image, mni_template, fixed_mask).transform
        heads.append(sitk.GetArrayFromImage(resample_to(image, reference, transform)))
        if scan.labels is not None:
            labels = sitk.Cast(read_image(scan.labels) > 0, sitk.sitkFloat32)
            label_masks.append(sitk.GetArrayFromImage(resample_to(labels, reference, transform)))
        log(f"pass 1: aligned {scan.name}")
    if not label_masks:
        raise InputError("No brain label map was found for any healthy scan; the brain prior needs at least one "
                         "(give a labels folder whose files start with the scans' names).")
    prior = np.mean(label_masks, axis=0).astype(np.float32)
    brain = prior >= BRAIN_PRIOR_LEVEL
    template = np.mean([normalised_head(head, brain, normalization) for head in heads], axis=0)
    return template.astype(np.float32), prior


def prepare_scans(scans: Sequence[HealthyScan], template: np.ndarray, prior: np.ndarray,
                  normalization: Normalization, log: Log = print) -> list[PreparedScan]:
    """Pass 2: every scan aligned with the run-time code against the healthy template."""
    shape = MNI_SIZE_XYZ[::-1]
    placeholder = np.ones(shape, np.float32)
    maps = PopulationMaps(template, prior, placeholder, placeholder, placeholder, placeholder)
    prepared = []
    for scan in scans:
        aligned = align_scan(read_image(scan.path), maps, normalization, brain_extracted=False)
        prepared.append(PreparedScan(scan.name, aligned.network_input, aligned.brain_mask))
        log(f"pass 2: aligned {scan.name} (mutual information {aligned.registration.metric:.3f})")
    return prepared


def save_prepared(path: Path, prepared: Sequence[PreparedScan], template: np.ndarray, prior: np.ndarray) -> None:
    """Cache pass 1 + 2 results (seconds to reload instead of minutes to register)."""
    np.savez_compressed(path, names=np.array([p.name for p in prepared]), template=template, prior=prior,
                        inputs=np.stack([p.network_input for p in prepared]).astype(np.float16),
                        masks=np.stack([p.brain_mask for p in prepared]))


def load_prepared(path: Path, names: Sequence[str]) -> tuple[list[PreparedScan], np.ndarray, np.ndarray] | None:
    """The cache written by :func:`save_prepared`, if it holds exactly ``names``; else None."""
    if not Path(path).is_file():
        return None
    data = np.load(path)
    if list(data["names"]) != list(names):
        return None
    prepared = [PreparedScan(str(n), data["inputs"][i].astype(np.float32), data["masks"][i])
                for i, n in enumerate(data["names"])]
    return prepared, data["template"], data["prior"]


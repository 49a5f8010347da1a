"""Build a labelled anomaly benchmark from held-out healthy scans (``medsynth anomaly-benchmark``).

For every healthy scan of a split (``validation`` or ``test``):

* the scan itself (``clean``; it must give no finding);
* ``lesions_per_scan`` real lesion shapes from an MNI lesion folder, each implanted twice (a
  hypo- and a hyper-intense variant), severities cycling mild → moderate → severe
  (:mod:`medsynth.benchmarks.anomaly.lesions`); the label is the implanted lesion;
* each k-space artefact (motion, ghosting, spike) at each severity
  (:mod:`medsynth.benchmarks.anomaly.artefacts`); the voxel label is empty, the scan label is the
  artefact type.

Lesion shapes are split between validation and test (alternating in the sorted list of lesions
within the volume range), so no shape is seen in both. Every draw comes from ``seed``.

Layout: ``OUT/manifest.json`` (one entry per case, see :class:`BenchmarkCase`),
``OUT/cases/<case>/image.nii.gz`` + ``label.nii.gz`` and ``OUT/brain/<subject>.nii.gz`` (the
evaluation region: the subject's brain from its label map).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.artefacts import ARTEFACT_TYPES, SEVERITIES, make_artefact
from medsynth.benchmarks.anomaly.lesions import VARIANTS, LesionImplant, lesion_on_scan
from medsynth.errors import InputError
from medsynth.io import IMAGE_SUFFIXES, read_image, write_image, write_text_atomic
from medsynth.tasks.anomaly.brain_mask import as_mask_image
from medsynth.tasks.anomaly.registration import register_affine
from medsynth.tasks.masks import head_mask

MANIFEST_NAME = "manifest.json"
#: The project's held-out IXI subjects (shared/data/subjects_t1), by file-name prefix; the
#: built-in anomaly model never trained on them.
HELD_OUT_SPLIT = {"validation": ("IXI014",), "test": ("IXI049", "IXI051")}
SPLITS = ("validation", "test")
#: Lesion volumes used (mL, in MNI space): large enough to be a finding at 2 mm, small enough to
#: leave most of the brain healthy.
LESION_VOLUME_RANGE_ML = (3.0, 60.0)

Log = Callable[[str], None]


@dataclass(frozen=True)
class HealthyInput:
    """A held-out healthy scan and its brain label map (> 0 = brain; the evaluation region)."""

    subject: str
    image: Path
    brain_labels: Path


@dataclass(frozen=True)
class BenchmarkCase:
    """One benchmark scan. ``kind``: clean, lesion or an artefact type; paths relative to the benchmark folder."""

    case: str
    split: str
    subject: str
    kind: str
    image: str
    label: str
    brain: str
    variant: str = ""
    severity: str = ""
    lesion: str = ""
    lesion_ml: float = 0.0
    parameters: dict = field(default_factory=dict)


def image_stem(path: Path) -> str:
    """File name without its image ending (``IXI012-T1.nii.gz`` → ``IXI012-T1``)."""
    name = Path(path).name
    for suffix in sorted(IMAGE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


def labels_for(image: Path, labels_folder: Path | None) -> Path | None:
    """The file of ``labels_folder`` whose name starts with the image's stem (first in sorted order)."""
    if labels_folder is None:
        return None
    if not Path(labels_folder).is_dir():
        raise InputError(f"Label folder not found: {labels_folder}.")
    stem = image_stem(image)
    matches = sorted(p for p in Path(labels_folder).iterdir() if p.name.startswith(stem) and p.name != Path(image).name)
    return matches[0] if matches else None


def held_out_inputs(data: Path, prefixes: Sequence[str]) -> list[HealthyInput]:
    """The held-out IXI scans of the shared data corpus with their DLMUSE brain label maps."""
    folder = Path(data) / "subjects_t1"
    found = []
    for prefix in prefixes:
        matches = sorted(folder.glob(f"{prefix}*.nii.gz"))
        if not matches:
            raise InputError(f"No scan starting with {prefix} in {folder}.")
        found.append(HealthyInput(prefix, matches[0], labels_for(matches[0], folder / "dlmuse")))
    return found


def shared_benchmark_sources(data: Path) -> dict[str, Path]:
    """Lesion folder and MNI template of the shared data corpus."""
    return {"lesions": Path(data) / "lesions_mni", "template": Path(data) / "templates" / "avg152T1.nii.gz"}


def _index_rows(lesion_dir: Path) -> list[dict]:
    index = lesion_dir / "index.tsv"
    if not index.is_file():
        raise InputError(f"{lesion_dir} has no index.tsv (file, lesion_voxels_1mm3); it is needed to choose lesions.")
    with open(index, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def lesion_index(lesion_dir: Path) -> list[str]:
    """Every lesion file name of ``lesion_dir``'s ``index.tsv``, sorted."""
    return sorted(r["file"] for r in _index_rows(lesion_dir))


def split_share(lesion_dir: Path, split: str) -> list[str]:
    """The lesion file names of ``split``: every other one (sorted) of those in the benchmark's volume range."""
    low, high = LESION_VOLUME_RANGE_ML
    eligible = sorted(r["file"] for r in _index_rows(lesion_dir) if low <= int(r["lesion_voxels_1mm3"]) / 1000 <= high)
    return eligible[SPLITS.index(split)::2]


def select_lesions(lesion_dir: Path, split: str, count: int) -> list[Path]:
    """``count`` lesion files of ``split``, spread evenly over the split's share of the volume range."""
    share = split_share(lesion_dir, split)
    low, high = LESION_VOLUME_RANGE_ML
    if len(share) < count:
        raise InputError(f"Only {len(share)} lesions of {low}–{high} mL are available for the {split} split.")
    picks = np.linspace(0, len(share) - 1, count).round().astype(int)
    return [lesion_dir / share[i] for i in picks]


def build_benchmark(out_dir: Path, splits: dict[str, Sequence[HealthyInput]], lesion_dir: Path, template: Path,
                    lesions_per_scan: int = 4, seed: int = 0, log: Log = print) -> list[BenchmarkCase]:
    """Write the benchmark to ``out_dir`` and return its cases (also in ``manifest.json``)."""
    out_dir = Path(out_dir)
    unknown = set(splits) - set(SPLITS)
    if unknown:
        raise InputError(f"Unknown split(s) {sorted(unknown)}; use {SPLITS}.")
    missing = [scan.subject for scans in splits.values() for scan in scans if scan.brain_labels is None]
    if missing:
        raise InputError(f"No brain label map found for {missing}; each scan needs one (the evaluation region).")
    template_image = read_image(template)
    template_head = head_mask(template_image, margin_mm=4.0, threshold_fraction=0.5)
    rng = np.random.default_rng(seed)
    cases: list[BenchmarkCase] = []
    for split, scans in splits.items():
        lesions = select_lesions(Path(lesion_dir), split, lesions_per_scan)
        for scan in scans:
            cases += _subject_cases(out_dir, split, scan, lesions, template_image, template_head, rng, log)
    write_text_atomic(out_dir / MANIFEST_NAME, json.dumps([asdict(c) for c in cases], indent=1) + "\n")
    return cases


def load_manifest(folder: Path) -> list[BenchmarkCase]:
    """The cases of a benchmark folder."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise InputError(f"{folder} is not an anomaly benchmark (no {MANIFEST_NAME}); build one with "
                         "'medsynth anomaly-benchmark'.")
    return [BenchmarkCase(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]


def _subject_cases(out_dir: Path, split: str, scan: HealthyInput, lesions: Sequence[Path], template: sitk.Image,
                   template_head: sitk.Image, rng: np.random.Generator, log: Log) -> list[BenchmarkCase]:
    image = sitk.Cast(read_image(scan.image), sitk.sitkFloat32)
    brain_array = ndi.binary_fill_holes(sitk.GetArrayFromImage(read_image(scan.brain_labels)) > 0)
    brain = as_mask_image(brain_array, image)
    brain_path = f"brain/{scan.subject}.nii.gz"
    write_image(brain, out_dir / brain_path)
    empty = as_mask_image(np.zeros(brain_array.shape, bool), image)
    scan_to_mni = register_affine(image, template, template_head).inverse()

    def save(case: str, kind: str, volume: sitk.Image, label: sitk.Image, **details) -> BenchmarkCase:
        folder = f"cases/{case}"
        write_image(volume, out_dir / folder / "image.nii.gz")
        write_image(label, out_dir / folder / "label.nii.gz")
        return BenchmarkCase(case, split, scan.subject, kind, f"{folder}/image.nii.gz", f"{folder}/label.nii.gz",
                             brain_path, **details)

    cases = [save(f"{scan.subject}_clean", "clean", image, empty)]
    for number, lesion_path in enumerate(lesions):
        severity = SEVERITIES[number % len(SEVERITIES)]
        lesion = lesion_on_scan(read_image(lesion_path), image, scan_to_mni, brain_array)
        for variant in VARIANTS:
            implant = LesionImplant.from_severity(variant, severity, int(rng.integers(2 ** 31)))
            name = f"{scan.subject}_lesion{number + 1}_{variant}"
            cases.append(save(name, "lesion", implant.apply(image, lesion, brain_array), as_mask_image(lesion, image),
                              variant=variant, severity=severity, lesion=lesion_path.name,
                              lesion_ml=round(float(lesion.sum() * np.prod(image.GetSpacing()) / 1000), 3),
                              parameters=asdict(implant)))
    for kind in ARTEFACT_TYPES:
        for severity in SEVERITIES:
            artefact = make_artefact(kind, severity, int(rng.integers(2 ** 31)))
            cases.append(save(f"{scan.subject}_{kind}_{severity}", kind, artefact.apply(image), empty,
                              severity=severity, parameters=json.loads(json.dumps(asdict(artefact)))))
    log(f"{split}: {scan.subject}: {len(cases)} cases")
    return cases

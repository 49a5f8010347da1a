"""Longitudinal T1 data in BIDS layout: read it for training, write simulated data into it.

Layout read (one row per visit; the first visit of a subject, by age, is its baseline)::

    ROOT/participants.tsv                     participant_id, sex (F/M)
    ROOT/sub-<s>/sub-<s>_sessions.tsv         session_id, age (years), diagnosis (CN/MCI/AD)
    ROOT/sub-<s>/ses-<v>/anat/*_T1w.nii.gz     the T1 of that visit (the first in sorted order
                                              when a visit has several runs)
    ROOT/derivatives/<PIPELINE>/sub-<s>/ses-<v>/anat/*_dseg.nii.gz
                                              MUSE/DLMUSE parcellation of that visit (needed at
                                              the baseline: it teaches the network the regions)
    ROOT/derivatives/<PIPELINE>/sub-<s>/ses-<v>/anat/*_morph.tsv
                                              optional regional volumes: columns ``index`` (MUSE
                                              label) and ``volume_mm3``; without it, volumes are
                                              counted from the visit's dseg

Why volumes may come from a table: counting labels at 2 mm misses sub-voxel change, while
segmentation pipelines measure volumes with partial volumes; a ``morph.tsv`` (the BIDS
derivatives proposal BEP011 name for morphometry tables) carries those numbers.

Diagnosis values accepted (case-insensitive): CN (also NL, HC, control, normal), MCI (also EMCI,
LMCI), AD (also dementia).
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.io import read_image, write_image, write_text_atomic
from medsynth.tasks.future_regions import REGION_NAMES, group_labels, label_lookup

_DIAGNOSIS_SYNONYMS = {"cn": "CN", "nl": "CN", "hc": "CN", "control": "CN", "normal": "CN", "mci": "MCI",
                       "emci": "MCI", "lmci": "MCI", "ad": "AD", "dementia": "AD"}
_SEXES = {"f": "F", "female": "F", "m": "M", "male": "M"}
_LABEL_RE = re.compile(r"^[A-Za-z0-9]+$")


@dataclass(frozen=True)
class Visit:
    """One session of one subject: its T1, age and diagnosis, and its derivatives (or None)."""

    subject: str
    session: str
    t1: Path
    age: float
    diagnosis: str
    dseg: Path | None = None
    morph: Path | None = None


@dataclass(frozen=True)
class LongitudinalPair:
    """A subject's baseline visit and one later visit: the unit the trainer learns from."""

    subject: str
    sex: str
    baseline: Visit
    follow_up: Visit

    @property
    def years(self) -> float:
        return self.follow_up.age - self.baseline.age


def read_longitudinal(root: str | os.PathLike, pipeline: str) -> list[LongitudinalPair]:
    """Every (baseline, later visit) pair of a BIDS data set, with derivatives from ``pipeline``.

    Raises :class:`InputError` naming the file and the fix when the layout or a table is wrong;
    subjects with a single visit are skipped (they hold no change to learn from).
    """
    root = Path(root)
    participants = _read_tsv(root / "participants.tsv", ("participant_id", "sex"))
    derivatives = root / "derivatives" / pipeline
    if not derivatives.is_dir():
        raise InputError(f"No derivatives folder {derivatives}: the trainer needs each baseline's MUSE parcellation "
                         f"(*_dseg.nii.gz) under derivatives/{pipeline}/.")
    pairs = []
    for row in participants:
        subject = _strip(row["participant_id"], "sub-")
        sex = _SEXES.get(row["sex"].strip().lower())
        if sex is None:
            raise InputError(f"{root / 'participants.tsv'}: sex of sub-{subject} is {row['sex']!r}; use F or M.")
        visits = sorted(_visits(root, derivatives, subject), key=lambda visit: visit.age)
        pairs.extend(LongitudinalPair(subject, sex, visits[0], later) for later in visits[1:])
    if not pairs:
        raise InputError(f"{root} holds no subject with two or more visits; a longitudinal data set is needed.")
    for pair in pairs:
        if pair.baseline.dseg is None:
            raise InputError(f"sub-{pair.subject} ses-{pair.baseline.session}: no *_dseg.nii.gz under {derivatives}; "
                             "the baseline parcellation is required.")
    return pairs


def regional_volumes(visit: Visit) -> dict[str, float]:
    """mL of every region of a visit: from its ``morph.tsv`` when present, else counted from its dseg."""
    if visit.morph is not None:
        rows = _read_tsv(visit.morph, ("index", "volume_mm3"))
        lookup = label_lookup()
        volumes = dict.fromkeys(REGION_NAMES, 0.0)
        for row in rows:
            index = int(float(row["index"]))
            if not 0 <= index < lookup.size or lookup[index] < 0:
                raise InputError(f"{visit.morph}: index {index} is not a MUSE label.")
            volumes[REGION_NAMES[lookup[index]]] += float(row["volume_mm3"]) / 1000.0
        return volumes
    if visit.dseg is None:
        raise InputError(f"sub-{visit.subject} ses-{visit.session}: neither a *_morph.tsv nor a *_dseg.nii.gz; "
                         "regional volumes cannot be measured.")
    labels = read_image(visit.dseg)
    grouped = group_labels(sitk.GetArrayViewFromImage(labels))
    voxel_ml = float(np.prod(labels.GetSpacing())) / 1000.0
    counts = np.bincount(grouped.ravel(), minlength=len(REGION_NAMES))
    return {name: float(counts[index]) * voxel_ml for index, name in enumerate(REGION_NAMES)}


def _visits(root: Path, derivatives: Path, subject: str) -> list[Visit]:
    table = root / f"sub-{subject}" / f"sub-{subject}_sessions.tsv"
    visits = []
    for row in _read_tsv(table, ("session_id", "age", "diagnosis")):
        session = _strip(row["session_id"], "ses-")
        try:
            age = float(row["age"])
        except ValueError:
            raise InputError(f"{table}: age of ses-{session} is {row['age']!r}; give the age in years.") from None
        diagnosis = _DIAGNOSIS_SYNONYMS.get(row["diagnosis"].strip().lower())
        if diagnosis is None:
            raise InputError(f"{table}: diagnosis of ses-{session} is {row['diagnosis']!r}; use CN, MCI or AD.")
        anat = root / f"sub-{subject}" / f"ses-{session}" / "anat"
        t1s = sorted(anat.glob("*_T1w.nii*"))
        if not t1s:
            raise InputError(f"No *_T1w.nii[.gz] in {anat} (listed in {table}).")
        derived = derivatives / f"sub-{subject}" / f"ses-{session}" / "anat"
        visits.append(Visit(subject, session, t1s[0], age, diagnosis, _first(derived, "*_dseg.nii*"),
                            _first(derived, "*_morph.tsv")))
    return visits


def _first(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.glob(pattern)) if folder.is_dir() else []
    return found[0] if found else None


def _strip(value: str, prefix: str) -> str:
    value = value.strip()
    return value[len(prefix):] if value.startswith(prefix) else value


def _read_tsv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise InputError(f"Missing {path}: a longitudinal BIDS data set needs it (columns {', '.join(required)}).")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = [column for column in required if column not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path} lacks the column(s) {missing}; it has {reader.fieldnames}.")
        return list(reader)


# --------------------------------------------------------------------------------------------
# Writing (the simulator's output)


class BidsWriter:
    """Writes subjects, visits and their derivatives as :func:`read_longitudinal` reads them."""

    def __init__(self, root: str | os.PathLike, pipeline: str, description: str):
        self.root = Path(root)
        self.pipeline = pipeline
        self.participants: list[tuple[str, str, str]] = []
        self.root.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.root / "dataset_description.json", json.dumps(
            {"Name": description, "BIDSVersion": "1.9.0", "DatasetType": "raw"}, indent=2) + "\n")
        derivatives = self.root / "derivatives" / pipeline
        derivatives.mkdir(parents=True, exist_ok=True)
        write_text_atomic(derivatives / "dataset_description.json", json.dumps(
            {"Name": f"{description}: parcellations and regional volumes", "BIDSVersion": "1.9.0",
             "DatasetType": "derivative", "GeneratedBy": [{"Name": pipeline}]}, indent=2) + "\n")

    def add_subject(self, subject: str, sex: str, note: str,
                    visits: list[tuple[str, float, str, sitk.Image, sitk.Image, Mapping[int, float]]]) -> None:
        """``visits``: (session, age, diagnosis, T1, MUSE labels, {label: volume mm³}) per visit."""
        for label in (subject, *[visit[0] for visit in visits]):
            if not _LABEL_RE.match(label):
                raise ValueError(f"BIDS labels are alphanumeric, got {label!r}")
        rows = []
        for session, age, diagnosis, image, labels, volumes in visits:
            stem = f"sub-{subject}_ses-{session}"
            write_image(image, self.root / f"sub-{subject}" / f"ses-{session}" / "anat" / f"{stem}_T1w.nii.gz")
            derived = self.root / "derivatives" / self.pipeline / f"sub-{subject}" / f"ses-{session}" / "anat"
            write_image(labels, derived / f"{stem}_dseg.nii.gz")
            morph = "index\tvolume_mm3\n" + "".join(f"{index}\t{value:.3f}\n" for index, value in sorted(volumes.items()))
            write_text_atomic(derived / f"{stem}_morph.tsv", morph)
            rows.append(f"ses-{session}\t{age:.2f}\t{diagnosis}\n")
        write_text_atomic(self.root / f"sub-{subject}" / f"sub-{subject}_sessions.tsv",
                          "session_id\tage\tdiagnosis\n" + "".join(rows))
        self.participants.append((subject, sex, note))
        write_text_atomic(self.root / "participants.tsv", "participant_id\tsex\tsource\n" + "".join(
            f"sub-{s}\t{x}\t{n}\n" for s, x, n in self.participants))

"""Findings: connected regions of an anomaly map above a threshold, measured in patient space.

Why: a heat map answers "where is something odd?" only for someone who scrolls through every
slice; a short list of regions with their size, strength and position is what a reader checks
first (and what a table in Slicer jumps to). Regions smaller than ``min_volume_ml`` are dropped:
after the 5×5×5 median filter isolated voxels cannot carry a finding, and tiny components are
noise (Baur et al. 2021 remove them too).

Units: volumes in millilitres (1 mL = 1000 mm³), positions in RAS millimetres (Slicer's patient
coordinates: +x right, +y anterior, +z superior), scores in the map's own units (see
:mod:`medsynth.tasks.anomaly.scoring`).
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.io.atomic import write_text_atomic

_LPS_TO_RAS = np.array([-1.0, -1.0, 1.0])
FINDING_FIELDS = ("id", "volume_ml", "peak_score", "mean_score", "centroid_ras_mm", "peak_ras_mm",
                  "bbox_ras_min_mm", "bbox_ras_max_mm", "bbox_ijk_min", "bbox_ijk_max", "voxels")


@dataclass(frozen=True)
class Finding:
    """One connected region with score ≥ threshold (26-connectivity).

    ``centroid_ras_mm`` is the score-unweighted centre of its voxels; ``peak_ras_mm`` the voxel of
    the highest score; the bounding box is given in RAS mm (axis-aligned in RAS, covering the voxel
    centres) and in voxel indices (i, j, k; inclusive) of the map's grid.
    """

    id: int
    volume_ml: float
    peak_score: float
    mean_score: float
    centroid_ras_mm: tuple[float, float, float]
    peak_ras_mm: tuple[float, float, float]
    bbox_ras_min_mm: tuple[float, float, float]
    bbox_ras_max_mm: tuple[float, float, float]
    bbox_ijk_min: tuple[int, int, int]
    bbox_ijk_max: tuple[int, int, int]
    voxels: int

    def to_dict(self) -> dict:
        return asdict(self)


def find_findings(score: sitk.Image, threshold: float, min_volume_ml: float = 0.1,
                  region: sitk.Image | None = None) -> list[Finding]:
    """Connected regions of ``score >= threshold`` (inside ``region`` when given), strongest peak first.

    Regions smaller than ``min_volume_ml`` are left out. ``score`` is not modified.
    """
    return label_findings(score, threshold, min_volume_ml, region)[0]


def label_findings(score: sitk.Image, threshold: float, min_volume_ml: float = 0.1,
                   region: sitk.Image | None = None) -> tuple[list[Finding], sitk.Image]:
    """:func:`find_findings` and a uint16 label image on ``score``'s grid (voxels of finding ``id`` = id)."""
    if not np.isfinite(threshold):
        raise InputError(f"The finding threshold must be a finite number, got {threshold}.")
    values = sitk.GetArrayViewFromImage(score)
    above = values >= threshold
    if region is not None:
        above &= sitk.GetArrayViewFromImage(region) > 0
    components, count = ndi.label(above, structure=np.ones((3, 3, 3), bool))
    voxel_ml = float(np.prod(score.GetSpacing())) / 1000.0
    found = []
    for index, box in enumerate(ndi.find_objects(components), start=1):
        inside = components[box] == index
        n = int(inside.sum())
        if n * voxel_ml < min_volume_ml:
            continue
        zyx = np.argwhere(inside) + np.array([s.start for s in box])
        scores = values[box][inside]
        peak = zyx[int(np.argmax(scores))]
        ras = _ras_of(score, zyx)
        found.append((index, Finding(
            id=0, volume_ml=round(n * voxel_ml, 4), peak_score=float(scores.max()), mean_score=float(scores.mean()),
            centroid_ras_mm=_rounded(ras.mean(axis=0)), peak_ras_mm=_rounded(_ras_of(score, peak[None])[0]),
            bbox_ras_min_mm=_rounded(ras.min(axis=0)), bbox_ras_max_mm=_rounded(ras.max(axis=0)),
            bbox_ijk_min=tuple(int(v) for v in zyx.min(axis=0)[::-1]),
            bbox_ijk_max=tuple(int(v) for v in zyx.max(axis=0)[::-1]), voxels=n)))
    found.sort(key=lambda item: (-item[1].peak_score, -item[1].volume_ml))
    relabel = np.zeros(count + 1, dtype=np.uint16)
    findings = []
    for new_id, (component, finding) in enumerate(found, start=1):
        relabel[component] = new_id
        findings.append(Finding(**{**finding.to_dict(), "id": new_id}))
    labels = sitk.GetImageFromArray(relabel[components])
    labels.CopyInformation(score)
    return findings, labels


def findings_json(findings: list[Finding], extra: dict | None = None) -> str:
    """JSON text: ``{"findings": [...], **extra}`` (``extra``: threshold, units, artefact verdict...)."""
    return json.dumps({**(extra or {}), "findings": [f.to_dict() for f in findings]}, indent=2) + "\n"


def findings_csv(findings: list[Finding], extra: dict | None = None) -> str:
    """CSV text, one row per finding; vectors are split into ``_r``/``_a``/``_s`` (or ``_i``/``_j``/``_k``) columns.

    A result made outside the model's validated domain (``extra["outside_domain"]``) starts with one
    ``#`` comment line saying so, so the stamp travels with the table even when it has no rows.
    """
    buffer = io.StringIO()
    stamp = (extra or {}).get("outside_domain")
    if stamp:
        buffer.write(f"# {stamp}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    header = []
    for name in FINDING_FIELDS:
        if name.startswith("bbox_ijk"):
            header += [f"{name}_{a}" for a in "ijk"]
        elif name.endswith("_mm"):
            header += [f"{name}_{a}" for a in "ras"]
        else:
            header.append(name)
    writer.writerow(header)
    for finding in findings:
        row = []
        for name in FINDING_FIELDS:
            value = getattr(finding, name)
            row += list(value) if isinstance(value, tuple) else [value]
        writer.writerow(row)
    return buffer.getvalue()


def write_findings(findings: list[Finding], path: str | os.PathLike, extra: dict | None = None) -> Path:
    """Write findings as ``.json`` (with ``extra``) or ``.csv`` (chosen by the ending), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return write_text_atomic(path, findings_json(findings, extra))
    if suffix == ".csv":
        return write_text_atomic(path, findings_csv(findings, extra))
    raise InputError(f"Cannot write findings to {path}: use a .json or .csv file name.")


def _ras_of(image: sitk.Image, zyx: np.ndarray) -> np.ndarray:
    """RAS mm of voxel centres given as (n, 3) z, y, x indices."""
    ijk = zyx[:, ::-1].astype(float)
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    lps = np.asarray(image.GetOrigin()) + (ijk * np.asarray(image.GetSpacing())) @ direction.T
    return lps * _LPS_TO_RAS


def _rounded(values: np.ndarray) -> tuple[float, float, float]:
    return tuple(round(float(v), 2) for v in values)

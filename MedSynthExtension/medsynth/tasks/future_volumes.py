"""Regional volumes at baseline and after a predicted change, and the table that reports them.

How volumes are measured on a prediction: the predicted deformation gives, at every baseline
voxel, the ratio of follow-up to baseline volume of the tissue there
(:func:`medsynth.tasks.future_field.volume_ratio`); a region's predicted volume is the sum of that
ratio over the region's baseline voxels (a user's parcellation, or the model's own regions)
times the voxel volume — tensor-based morphometry in baseline space.
Sub-voxel changes count in full, which a count of warped labels at 2 mm would miss.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from medsynth.io.atomic import write_text_atomic
from medsynth.tasks.future_regions import BRAIN_REGIONS, REGION_NAMES, title_of

#: Columns of the volume table, in order (CSV header and Slicer table columns).
TABLE_COLUMNS = ("region", "title", "years", "baseline_ml", "predicted_ml", "change_ml", "change_percent",
                 "percent_per_year", "measured_on")
#: Regions the table reports (every region but the space outside the brain), then the whole brain.
REPORTED_REGIONS: tuple[str, ...] = tuple(name for name in REGION_NAMES if name != "outside") + ("whole_brain",)


@dataclass(frozen=True)
class RegionVolume:
    """One region after ``years``: volumes in mL and the change, in % of baseline and % per year
    (simple annualisation, ``change_percent / years``, as atrophy rates are usually quoted)."""

    region: str
    years: float
    baseline_ml: float
    predicted_ml: float
    measured_on: str

    @property
    def title(self) -> str:
        return title_of(self.region)

    @property
    def change_ml(self) -> float:
        return self.predicted_ml - self.baseline_ml

    @property
    def change_percent(self) -> float:
        return 100.0 * self.change_ml / self.baseline_ml if self.baseline_ml > 0 else float("nan")

    @property
    def percent_per_year(self) -> float:
        return self.change_percent / self.years if self.years > 0 else 0.0

    def as_row(self) -> dict[str, object]:
        return {"region": self.region, "title": self.title, "years": self.years,
                "baseline_ml": round(self.baseline_ml, 3), "predicted_ml": round(self.predicted_ml, 3),
                "change_ml": round(self.change_ml, 3), "change_percent": round(self.change_percent, 3),
                "percent_per_year": round(self.percent_per_year, 3), "measured_on": self.measured_on}


@dataclass(frozen=True)
class VolumeTable:
    """Rows for every reported region at every predicted interval (years ascending)."""

    rows: tuple[RegionVolume, ...]

    def get(self, region: str, years: float) -> RegionVolume:
        for row in self.rows:
            if row.region == region and abs(row.years - years) < 1e-9:
                return row
        raise KeyError(f"no row for region {region!r} at {years} years")

    @property
    def years(self) -> tuple[float, ...]:
        return tuple(sorted({row.years for row in self.rows}))

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=TABLE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow(row.as_row())
        return buffer.getvalue()

    def write_csv(self, path: str | os.PathLike) -> Path:
        """Write the table as CSV (columns :data:`TABLE_COLUMNS`), atomically."""
        return write_text_atomic(path, self.to_csv())


def volumes_from_labels(grouped: np.ndarray, voxel_ml: float, ratio: np.ndarray | None = None) -> dict[str, float]:
    """mL of every region of a grouped label array (see :func:`~medsynth.tasks.future_regions.group_labels`),
    at baseline (``ratio`` None) or after a change with per-voxel volume ``ratio`` on the same grid."""
    weights = None if ratio is None else np.asarray(ratio, dtype=np.float64).ravel()
    sums = np.bincount(np.asarray(grouped).ravel(), weights=weights, minlength=len(REGION_NAMES))
    return {name: float(sums[index]) * voxel_ml for index, name in enumerate(REGION_NAMES)}


def volume_table(baseline_ml: Mapping[str, float], predicted_ml: Mapping[float, Mapping[str, float]],
                 measured_on: str) -> VolumeTable:
    """The table for every interval of ``predicted_ml`` (years → region → mL); the whole-brain row
    is the sum of :data:`~medsynth.tasks.future_regions.BRAIN_REGIONS`. ``measured_on`` says which
    regions were used (``"labels"`` or ``"model regions"``)."""
    rows = []
    for years in sorted(predicted_ml):
        after = dict(predicted_ml[years], whole_brain=_brain(predicted_ml[years]))
        before = dict(baseline_ml, whole_brain=_brain(baseline_ml))
        rows.extend(RegionVolume(name, float(years), before[name], after[name], measured_on) for name in REPORTED_REGIONS)
    return VolumeTable(tuple(rows))


def _brain(volumes: Mapping[str, float]) -> float:
    return float(sum(volumes[name] for name in BRAIN_REGIONS))

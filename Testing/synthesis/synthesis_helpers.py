"""Phantom material for the synthesis tests (no shared data needed): healthy heads with MUSE-like
labels, lesion-shape masks, and tumour-/stroke-like lesion scans with T1 and FLAIR."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import SimpleITK as sitk

SHAPE = (60, 80, 70)  # z, y, x at 2 mm


def _write(array: np.ndarray, path: Path, spacing: float = 2.0) -> Path:
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((spacing,) * 3)
    image.SetOrigin((-70.0, -80.0, -60.0))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))
    return path


def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z, y, x = np.meshgrid(*[np.arange(n) - (n - 1) / 2 for n in SHAPE], indexing="ij")
    return z / 25.0, y / 34.0, x / 29.0


def healthy_head(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(T1, MUSE-like labels) of an ellipsoid brain: lobar WM 81-88 by position, cortex 150, deep 59."""
    z, y, x = _grid()
    radius = np.sqrt(z ** 2 + y ** 2 + x ** 2)
    brain = radius < 1.0
    labels = np.zeros(SHAPE, np.uint8)
    right = x < 0  # LPS: x grows to the left; the phantom is written with identity direction
    lobe = np.where(y < -0.2, 81, np.where(y > 0.55, 83, np.where(z < -0.1, 87, 85)))
    labels[brain] = (lobe + (~right))[brain]
    labels[brain & (radius > 0.85)] = 150
    labels[radius < 0.25] = 59
    t1 = np.where(labels == 150, 0.8, 1.2) * brain + 0.3 * ((radius >= 1.0) & (radius < 1.15))
    t1 = (t1 * (1 + 0.03 * rng.standard_normal(SHAPE))) * 1000
    return np.clip(t1, 0, None).astype(np.float32), labels


def write_anatomy(folder: Path, count: int = 2, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    for index in range(count):
        t1, labels = healthy_head(rng)
        _write(t1, folder / "images" / f"sub{index + 1:02d}-T1.nii.gz")
        _write(labels, folder / "labels" / f"sub{index + 1:02d}-T1_labels.nii.gz")
    return folder / "images", folder / "labels"


def write_shapes(folder: Path, count: int = 4, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*[np.arange(n) for n in (40, 40, 40)], indexing="ij")
    for index in range(count):
        a, b, c = rng.uniform(4, 9, 3)
        blob = ((z - 20) / a) ** 2 + ((y - 20) / b) ** 2 + ((x - 20) / c) ** 2 < 1
        _write(blob.astype(np.uint8), folder / f"shape{index}.nii.gz", spacing=1.0)
    return folder


def write_lesion_scans(folder: Path, seed: int = 2) -> Path:
    """Two tumour-like and one stroke-like skull-stripped scans and their CSV list."""
    rng = np.random.default_rng(seed)
    z, y, x = _grid()
    rows = []
    for name, kind, centre, t1_level in (("tumour_a", "tumour", (0.3, -0.3, 0.4), 0.8),
                                         ("tumour_b", "tumour", (0.1, 0.2, -0.4), 0.9),
                                         ("stroke_a", "stroke", (0.0, 0.0, 0.5), 0.3)):
        radius = np.sqrt(z ** 2 + y ** 2 + x ** 2)
        lesion = np.sqrt((z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2) < 0.25
        brain = radius < 1.0
        t1 = np.where(brain, 1.0 + 0.05 * rng.standard_normal(SHAPE), 0)
        t1[lesion] = t1_level + 0.1 * rng.standard_normal(lesion.sum())
        flair = np.where(brain, 1.0 + 0.05 * rng.standard_normal(SHAPE), 0)
        flair[lesion] = 2.2 if kind == "tumour" else 0.4
        _write((t1 * 500).astype(np.float32), folder / name / "t1.nii.gz")
        _write((flair * 500).astype(np.float32), folder / name / "flair.nii.gz")
        rows.append({"name": name, "t1": f"{name}/t1.nii.gz", "flair": f"{name}/flair.nii.gz", "lesion_type": kind})
    with open(folder / "scans.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder / "scans.csv"

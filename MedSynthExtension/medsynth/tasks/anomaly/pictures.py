"""Overlay pictures of an anomaly result: the scan with its heat map, through the strongest finding.

A command-line or batch run leaves a picture a person can check at a glance: axial, coronal and
sagittal slices through the peak of the strongest finding (or the centre of the brain when there
is none), heat shown from the threshold up (:mod:`medsynth.render`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.geometry.grid import covering_grid, direction_of
from medsynth.render import VIEWS, overlay_picture, write_png


def slice_fractions(image: sitk.Image, point_lps: np.ndarray) -> dict[str, float]:
    """Where ``point_lps`` lies (0–1) along each view's axis of the display grid of ``image``."""
    grid = covering_grid(image, direction_of("LPS"), np.full(3, min(image.GetSpacing())), None)
    index = np.asarray(grid.TransformPhysicalPointToContinuousIndex([float(v) for v in point_lps]))
    size = np.asarray(grid.GetSize(), dtype=float)
    fraction = np.clip((index + 0.5) / size, 0.0, 0.999)  # x → left, y → posterior, z → superior
    return {"axial": float(fraction[2]), "coronal": float(fraction[1]), "sagittal": float(fraction[0])}


def focus_point(result) -> np.ndarray:
    """LPS point to show: the strongest finding's peak, else the centre of the scored brain."""
    if result.findings:
        return np.asarray(result.findings[0].peak_ras_mm) * np.array([-1.0, -1.0, 1.0])
    mask = sitk.GetArrayViewFromImage(result.brain_mask) > 0
    centre = np.argwhere(mask).mean(axis=0)[::-1] if mask.any() else (np.asarray(result.brain_mask.GetSize()) - 1) / 2
    return np.asarray(result.brain_mask.TransformContinuousIndexToPhysicalPoint([float(c) for c in centre]))


def findings_picture(image: sitk.Image, result, path: str | os.PathLike, opacity: float = 0.6) -> Path:
    """Write a PNG: the three views side by side, heat from the result's threshold to its peak."""
    fractions = slice_fractions(image, focus_point(result))
    peak = float(sitk.GetArrayViewFromImage(result.score).max())
    heat_range = (result.threshold, max(peak, result.threshold + 1e-3))
    tiles = [overlay_picture(image, result.score, view, fractions[view], heat_range=heat_range,
                             threshold=result.threshold, opacity=opacity) for view in VIEWS]
    height = max(t.shape[0] for t in tiles)
    tiles = [np.pad(t, ((0, height - t.shape[0]), (0, 4), (0, 0))) for t in tiles]
    return write_png(np.concatenate(tiles, axis=1), path, result.provenance.outside_domain)

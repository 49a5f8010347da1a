"""Pictures of a future-MRI prediction (PNG, no Slicer): baseline beside prediction, and the change map.

Used by ``medsynth predict-future --pictures`` and by the demo, so a batch run leaves images a
person can check: for each view, ``<view>_baseline_vs_predicted.png`` (same grey window, baseline
left, prediction right) and ``<view>_tissue_loss.png`` (the tissue-loss map in heat colours over
the prediction, shown where the loss is at least the threshold).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.render import VIEWS, display_slice, overlay_picture, write_png
from medsynth.tasks.future import FutureResult

#: Tissue loss (%) below which the change map is transparent in the pictures.
DEFAULT_THRESHOLD_PERCENT = 1.0


def change_map_range(tissue_loss: sitk.Image, threshold: float = DEFAULT_THRESHOLD_PERCENT) -> tuple[float, float]:
    """Display range (%) of a tissue-loss map: from ``threshold`` to its 99.5th percentile of
    positive losses (at least ``2 × threshold``), so a few extreme voxels do not wash it out."""
    values = sitk.GetArrayViewFromImage(tissue_loss)
    positive = values[values > threshold]
    top = float(np.percentile(positive, 99.5)) if positive.size else 2 * threshold
    return threshold, max(top, 2 * threshold)


def write_pictures(result: FutureResult, folder: str | os.PathLike, fraction: float = 0.5,
                   threshold: float = DEFAULT_THRESHOLD_PERCENT) -> list[Path]:
    """Write the pictures of the longest interval of ``result`` into ``folder``; return their paths."""
    folder = Path(folder)
    prediction = result.final
    window = tuple(np.percentile(sitk.GetArrayViewFromImage(result.baseline), [1, 99.5]))
    heat_range = change_map_range(prediction.tissue_loss, threshold)
    written, stamp = [], result.provenance.outside_domain
    for view in VIEWS:
        pair = np.concatenate([_grey(result.baseline, view, fraction, window),
                               np.full((_height(result.baseline, view, fraction), 4, 3), 255, np.uint8),
                               _grey(prediction.image, view, fraction, window)], axis=1)
        written.append(write_png(pair, folder / f"{view}_baseline_vs_predicted.png", stamp))
        heat = overlay_picture(prediction.image, prediction.tissue_loss, view, fraction, heat_range=heat_range,
                               threshold=threshold, opacity=0.7, window=window)
        written.append(write_png(heat, folder / f"{view}_tissue_loss.png", stamp))
    return written


def _grey(image: sitk.Image, view: str, fraction: float, window: tuple[float, float]) -> np.ndarray:
    return overlay_picture(image, None, view, fraction, window=window)


def _height(image: sitk.Image, view: str, fraction: float) -> int:
    return display_slice(image, view, fraction).shape[0]

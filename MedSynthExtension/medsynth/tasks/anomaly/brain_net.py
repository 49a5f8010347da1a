"""deepbet's brain extraction run in onnxruntime (no torch): the brain of a T1 scan, skull on or off.

Why: the population-prior mask of :mod:`medsynth.tasks.anomaly.brain_mask` follows the affine
registration, so on scans that align imperfectly skull, dura or eyes enter the scored region and
light up as findings. deepbet (Fisch et al. 2024, MIT licence, trained on 7,837 T1 scans of many
scanners) segments the brain itself. The networks are exported from its wheel by
:mod:`medsynth.training.anomaly.brain_export`; this module mirrors deepbet's own pipeline
(``deepbet/bet.py``): the scan in RAS orientation, nearest-exact resize to 128³, intensities
normalised between the 0.5 and 99.5 percentiles, the bounding-box net, the largest component's
box with a 10 % margin resized to 256³, the mask net, probability > 0.5, largest component, holes filled.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.errors import InputError, ModelError
from medsynth.models.registry import BUILTIN_MODELS_DIR
from medsynth.runtime.onnx_model import import_onnxruntime
from medsynth.tasks.masks import fill_holes, largest_component

NETWORK_DIR = BUILTIN_MODELS_DIR / "anomaly-brain-t1" / "brain_extraction"
_SMALL, _LARGE, _MARGIN, _LEVEL = 128, 256, 0.1, 0.5


@lru_cache(maxsize=4)
def _session(path: Path):  # -> onnxruntime.InferenceSession
    if not path.is_file():
        raise ModelError(f"The brain-extraction network {path} is missing; run "
                         "python -m medsynth.training.anomaly.brain_export (needs pip install deepbet==1.0.2).")
    ort = import_onnxruntime()  # at first use: a Slicer without onnxruntime still loads the modules
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 2, 1  # fixed: the same sums every run
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _resize_nearest(volume: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """PyTorch's ``nearest-exact`` resize: source index floor((i + 0.5) · in / out)."""
    index = [np.minimum(((np.arange(n) + 0.5) * (s / n)).astype(np.int64), s - 1) for s, n in zip(volume.shape, shape)]
    return volume[np.ix_(*index)]


def _normalise(x: np.ndarray, low: float, high: float) -> np.ndarray:
    x = np.clip((x - low) / max(high - low, 1e-6), 0.0, 1.0)
    x = (x - x.mean()) / max(float(x.std()), 1e-6)
    return (0.226 * x + 0.449).astype(np.float32)


def _brain_probability(net: str, x: np.ndarray, low: float, high: float) -> np.ndarray:
    logits = _session(NETWORK_DIR / net).run(None, {"image": _normalise(x, low, high)[None, None]})[0]
    return logits[0, 1]


def _bounding_box(mask: np.ndarray, full_shape: tuple[int, ...]) -> tuple[slice, ...]:
    box = []
    for axis, size in enumerate(full_shape):
        other = tuple(a for a in range(3) if a != axis)
        hits = np.flatnonzero(mask.mean(axis=other) > 0.02)
        if hits.size == 0:
            raise InputError("No brain was found in the scan (brain extraction found no head-sized structure).")
        scale = size / mask.shape[axis]
        centre, extent = scale * (hits.max() + 1 + hits.min()) / 2, scale * (hits.max() + 1 - hits.min())
        centre, extent = round(centre), round((1 + 2 * _MARGIN) * extent)
        box.append(slice(max(0, int(centre - extent / 2)), min(size, int(centre + extent / 2))))
    return tuple(box)


def brain_mask(image: sitk.Image) -> sitk.Image:
    """The brain of ``image`` as a uint8 mask on its grid (1 = brain); ``image`` is not modified."""
    ras = sitk.DICOMOrient(image, "RAS")
    x = np.nan_to_num(sitk.GetArrayFromImage(ras).astype(np.float32)).transpose(2, 1, 0)  # (i, j, k) as deepbet
    small = _resize_nearest(x, (_SMALL,) * 3)
    low, high = (float(v) for v in np.quantile(small, [0.005, 0.995]))
    box = _bounding_box(largest_component(_brain_probability("deepbet_bbox.onnx", small, low, high) > _LEVEL),
                        x.shape)
    crop = x[box]
    probability = _brain_probability("deepbet_mask.onnx", _resize_nearest(crop, (_LARGE,) * 3), low, high)
    mask = np.zeros(x.shape, bool)
    mask[box] = fill_holes(largest_component(_resize_nearest(probability, crop.shape) > _LEVEL))
    result = sitk.GetImageFromArray(mask.transpose(2, 1, 0).astype(np.uint8))
    result.CopyInformation(ras)
    orientation = sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(image.GetDirection())
    return sitk.DICOMOrient(result, orientation)

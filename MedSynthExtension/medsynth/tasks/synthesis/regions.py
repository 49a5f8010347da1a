"""Coarse brain regions of an axial slice from a MUSE / DLMUSE parcellation.

MUSE names its lobar white matter (81–88: frontal, occipital, parietal, temporal; right then
left); its 108 cortical ROIs are given the lobe of the nearest lobar white matter, so the map
needs no ROI-name table. Deep grey matter, the internal capsule, fornix and corpus callosum are
``deep``. Ventricles, CSF, cerebellum and brainstem belong to no region (lesions are not placed there).
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi

from medsynth.errors import InputError

REGIONS = ("frontal", "parietal", "temporal", "occipital", "deep")
#: MUSE lobar white-matter labels per lobe.
_LOBE_WM = {"frontal": (81, 82), "occipital": (83, 84), "parietal": (85, 86), "temporal": (87, 88)}
_DEEP = (23, 30, 36, 37, 55, 56, 57, 58, 59, 60, 61, 62, 75, 76, 89, 90, 91, 92, 93, 94, 95)
_CORTEX = tuple(range(100, 208))


def region_map(labels: np.ndarray) -> np.ndarray:
    """Region number per voxel (1 + index in :data:`REGIONS`; 0 = none) of a MUSE label array."""
    labels = np.asarray(labels).astype(np.int32)
    if not np.isin(labels, list(_LOBE_WM["frontal"])).any():
        raise InputError("The label map has no MUSE frontal white matter (labels 81/82); the synthesis regions need "
                         "a MUSE / DLMUSE parcellation.")
    lobes = np.zeros(labels.shape, np.uint8)
    for name, values in _LOBE_WM.items():
        lobes[np.isin(labels, values)] = REGIONS.index(name) + 1
    _, nearest = ndi.distance_transform_edt(lobes == 0, return_indices=True)
    regions = np.zeros(labels.shape, np.uint8)
    cortex = np.isin(labels, _CORTEX)
    regions[cortex] = lobes[tuple(index[cortex] for index in nearest)]
    regions[lobes > 0] = lobes[lobes > 0]
    regions[np.isin(labels, _DEEP)] = REGIONS.index("deep") + 1
    return regions


def region_number(name: str) -> int:
    if name not in REGIONS:
        raise InputError(f"Unknown region '{name}'; choose one of {', '.join(REGIONS)}.")
    return REGIONS.index(name) + 1

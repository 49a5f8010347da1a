"""Brain regions of the future-MRI task: groups of MUSE / DLMUSE labels with one atrophy rate each.

Why groups: the literature gives atrophy rates for a handful of structures (hippocampus, amygdala,
cortex, white matter, ventricles, whole brain), not for each of MUSE's 148 ROIs, and a 2 mm network
can only tell coarse regions apart. Every voxel of a MUSE/DLMUSE parcellation belongs to exactly
one group below; the network predicts the same groups as probabilities, so regional volumes can
be measured with or without a user-supplied parcellation.

Label numbers follow the MUSE ROI dictionary (the Neuromorphometrics/OASIS label set used by
MUSE and NiChart DLMUSE): 1 external CSF, 4 / 11 third / fourth ventricle, 31/32 amygdala, 46 CSF,
47/48 hippocampus, 49–52 inferior lateral and lateral ventricles, 81–95 cerebral white-matter
lobes, fornix, internal capsule and corpus callosum, 100–207 cortical grey-matter ROIs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medsynth.errors import InputError


@dataclass(frozen=True)
class RegionGroup:
    """One region: its short name (used in outputs and tables), display name, MUSE labels, and
    whether the progression model gives it its own rate (``active``) or only follows the others
    (outside the brain; external CSF, which takes up the volume the brain loses)."""

    name: str
    title: str
    labels: tuple[int, ...]
    active: bool


REGION_GROUPS: tuple[RegionGroup, ...] = (
    RegionGroup("outside", "Outside the brain", (0,), False),
    RegionGroup("csf_external", "External CSF", (1, 46), False),
    RegionGroup("ventricles", "Ventricles", (4, 11, 49, 50, 51, 52), True),
    RegionGroup("hippocampus", "Hippocampus", (47, 48), True),
    RegionGroup("amygdala", "Amygdala", (31, 32), True),
    RegionGroup("cortex", "Cortical grey matter", tuple(range(100, 208)), True),
    RegionGroup("white_matter", "Cerebral white matter", tuple(range(81, 96)), True),
    RegionGroup("deep_grey", "Deep grey matter", (23, 30, 36, 37, 55, 56, 57, 58, 59, 60, 61, 62, 69, 75, 76), True),
    RegionGroup("cerebellum_brainstem", "Cerebellum and brainstem", (35, 38, 39, 40, 41, 71, 72, 73), True),
)
REGION_NAMES: tuple[str, ...] = tuple(group.name for group in REGION_GROUPS)
ACTIVE_REGIONS: tuple[str, ...] = tuple(group.name for group in REGION_GROUPS if group.active)
#: Regions whose sum is the brain (parenchyma) volume, for the whole-brain row of the volume table.
BRAIN_REGIONS: tuple[str, ...] = ("hippocampus", "amygdala", "cortex", "white_matter", "deep_grey", "cerebellum_brainstem")
#: The region whose volume balances the brain's loss so that the intracranial volume is constant.
COMPENSATING_REGION = "csf_external"
#: Output-channel prefix of the network's region probabilities (``p_hippocampus``, ...).
PROBABILITY_PREFIX = "p_"


def region_index(name: str) -> int:
    """Position of a region in :data:`REGION_GROUPS` (= its class index in the network)."""
    return REGION_NAMES.index(name)


def title_of(name: str) -> str:
    """Display name of a region (or of ``whole_brain``)."""
    if name == "whole_brain":
        return "Whole brain"
    return REGION_GROUPS[region_index(name)].title


def label_lookup(max_label: int = 255) -> np.ndarray:
    """Array mapping a MUSE label value to its group index; -1 for values no group holds."""
    lookup = np.full(max_label + 1, -1, dtype=np.int16)
    for index, group in enumerate(REGION_GROUPS):
        lookup[list(group.labels)] = index
    return lookup


def group_labels(labels: np.ndarray) -> np.ndarray:
    """Group index (uint8, see :data:`REGION_GROUPS`) of every voxel of a MUSE label array.

    Raises :class:`InputError` when the array holds values that are not MUSE labels (e.g. a
    FreeSurfer aseg, whose hippocampus is 17/53): grouping them would silently mislabel regions.
    """
    values = np.asarray(labels)
    if values.size == 0:
        raise InputError("The label map is empty.")
    if np.issubdtype(values.dtype, np.floating):
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise InputError("The label map holds non-integer values; give a MUSE/DLMUSE parcellation (integer labels).")
    integers = values.astype(np.int64)
    lookup = label_lookup()
    unknown = np.unique(integers[(integers < 0) | (integers >= lookup.size)])
    inside = integers[(integers >= 0) & (integers < lookup.size)]
    unknown = np.union1d(unknown, np.unique(inside[lookup[inside] < 0]))
    if unknown.size:
        shown = ", ".join(str(v) for v in unknown[:10]) + (" …" if unknown.size > 10 else "")
        raise InputError(f"The label map holds values that are not MUSE/DLMUSE labels ({shown}). The future-MRI "
                         "regions are defined on MUSE labels (e.g. NiChart DLMUSE output); give such a parcellation "
                         "or leave the labels out to use the model's own region estimate.")
    grouped = lookup[integers].astype(np.uint8)
    if not np.any(grouped == region_index("hippocampus")):
        raise InputError("The label map has no hippocampus (MUSE labels 47/48); it does not look like a whole-brain "
                         "MUSE/DLMUSE parcellation.")
    return grouped


def one_hot(grouped: np.ndarray) -> np.ndarray:
    """(regions, *shape) float32 indicators of a grouped label array."""
    return (np.arange(len(REGION_GROUPS))[(slice(None),) + (None,) * grouped.ndim] == grouped[None]).astype(np.float32)

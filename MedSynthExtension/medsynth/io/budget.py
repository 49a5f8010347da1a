"""A voxel budget checked from the header, before any voxel is allocated.

A 14 MB ``.nii.gz`` can hold 1024³ voxels; reading it and converting it to float32 would need
many GB and end in a MemoryError. The budget (default 2**28 voxels, about 1 GB as float32) is
configurable with the environment variable ``MEDSYNTH_MAX_VOXELS``.
"""

from __future__ import annotations

import os
from pathlib import Path

from medsynth.errors import InputError

DEFAULT_MAX_VOXELS = 1 << 28


def max_voxels() -> int:
    """The voxel budget: ``MEDSYNTH_MAX_VOXELS`` when set to a positive integer, else the default."""
    text = os.environ.get("MEDSYNTH_MAX_VOXELS", "").strip()
    if not text:
        return DEFAULT_MAX_VOXELS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise InputError(f"MEDSYNTH_MAX_VOXELS={text!r} is not a positive whole number of voxels.")
    return value


def check_voxel_budget(path: str | os.PathLike, voxels: int) -> None:
    """Raise :class:`InputError` when an image of ``voxels`` voxels exceeds the budget."""
    limit = max_voxels()
    if voxels > limit:
        raise InputError(f"{Path(path)} holds {voxels:,} voxels ({voxels * 4 / 2**30:.1f} GiB as float32), above "
                         f"the limit of {limit:,}. Crop or downsample it, or raise "
                         "MEDSYNTH_MAX_VOXELS if this machine has the memory.")

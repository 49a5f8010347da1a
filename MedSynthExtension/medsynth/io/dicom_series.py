"""Check a DICOM series' slices before ITK stacks them, because ITK only warns about irregular sampling.

A series with a missing, duplicated or misplaced slice would otherwise be read as a volume whose
slices lie up to a slice thickness away from where the scanner put them. The headers alone are
read (no pixel data), once per file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pydicom

from medsynth.errors import InputError

#: Relative deviation from the median slice gap tolerated (scanner rounding of positions).
_GAP_TOLERANCE = 0.05


def check_series(folder: Path, files: Sequence[str]) -> None:
    """Raise :class:`InputError` naming the slice when UIDs or positions repeat or the gaps are not uniform."""
    uids: dict[str, str] = {}
    positions: list[tuple[float, str]] = []
    normal = None
    for name in files:
        ds = pydicom.dcmread(name, stop_before_pixels=True, force=True)
        uid = str(getattr(ds, "SOPInstanceUID", ""))
        if uid and uid in uids:
            raise InputError(f"The DICOM series in {folder} holds two slices with SOP Instance UID {uid}: "
                             f"{Path(uids[uid]).name} and {Path(name).name}. Remove the duplicate.")
        uids[uid] = name
        if not (hasattr(ds, "ImagePositionPatient") and hasattr(ds, "ImageOrientationPatient")):
            return  # no geometry to check (e.g. a secondary capture); the reader decides
        if normal is None:
            orientation = np.asarray([float(v) for v in ds.ImageOrientationPatient])
            normal = np.cross(orientation[:3], orientation[3:])
        positions.append((float(np.dot(normal, [float(v) for v in ds.ImagePositionPatient])), name))
    if len(positions) < 3:
        return
    positions.sort()
    gaps = np.diff([p for p, _ in positions])
    for gap, (where, name) in zip(gaps, positions[1:]):
        if abs(gap) < 1e-3:
            raise InputError(f"The DICOM series in {folder} has two slices at the same position ({where:.2f} mm): "
                             f"{Path(name).name} repeats another slice. Remove the duplicate.")
    median = float(np.median(gaps))
    for index, gap in enumerate(gaps):
        if abs(gap - median) > _GAP_TOLERANCE * median:
            before, after = positions[index][1], positions[index + 1][1]
            kind = "a slice is missing" if gap > median else "the slices are unevenly spaced"
            raise InputError(f"The DICOM series in {folder} is not uniformly spaced: {kind} between "
                             f"{Path(before).name} and {Path(after).name} ({float(gap):.2f} mm instead of "
                             f"{median:.2f} mm). Export the complete series again.")

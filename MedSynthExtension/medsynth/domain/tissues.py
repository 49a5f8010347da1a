"""Which MR contrast is this? White matter against cortex and fluid, read where each must be.

Why this holds on any scanner: in every brain, the cortex is the outer few millimetres of the
brain and white matter fills its depth. So the commonest intensity of the brain's outer shell
is grey matter's level, the commonest intensity deep inside is white matter's level, and the
tails of the brain's histogram are fluid (ventricles, sulci) and enhancing tissue. Relaxation
physics then fixes the contrast:

- T1: white matter brighter than cortex (short T1 of myelin), fluid darkest;
- FLAIR: cortex at least as bright as white matter, fluid suppressed to a dark tail;
- T2: cortex brighter than white matter, fluid far brighter (a long bright tail);
- PD: cortex a little brighter than white matter, fluid close to both;
- post-contrast T1: a T1 with enhancing tissue (vessels, dural sinuses, choroid plexus, tumour)
  well above white matter, which native T1 lacks inside the brain.

The thresholds below are round numbers from that physics; the confusion table in the README says
how they fare on the project's real scans (which were looked at while choosing them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage as ndi

#: Cortex below this fraction of white matter: T1-weighted.
T1_MAX_GREY_TO_WHITE = 0.95
#: 2nd percentile of the brain below this fraction of white matter: fluid suppressed (FLAIR).
FLAIR_MAX_DARK_TAIL = 0.5
#: 98th percentile above this fraction of white matter: bright fluid (T2), else PD.
T2_MIN_BRIGHT_TAIL = 1.5
#: A T1 voxel this many white-matter standard deviations above its level is enhancing …
ENHANCING_SD = 4.0
#: … and more than this share of the brain enhancing (0.2 %, a few mL) makes it post-contrast.
ENHANCING_SHARE = 0.002
#: The cortex shell and the deep part, as depth (mm) below the brain part's own surface.
CORTEX_DEPTH_MM = 4.0
DEEP_DEPTH_MM = 12.0


@dataclass(frozen=True)
class ContrastCall:
    """The contrast, how sure (0–1: distance of the deciding measure from its threshold), and the measures."""

    contrast: str
    confidence: float
    evidence: dict[str, float]
    white_level: float = float("nan")


def classify_contrast(voxels: np.ndarray, brain: np.ndarray, spacing_mm: float) -> ContrastCall:
    """T1, T1post, FLAIR, T2 or PD of the ``brain`` part of ``voxels`` (see the module docstring)."""
    depth = ndi.distance_transform_edt(brain, sampling=spacing_mm)
    values = voxels[brain]
    low, high = np.percentile(values, [0.5, 99.5])
    deep = voxels[brain & (depth >= DEEP_DEPTH_MM)]
    if deep.size < 50:
        deep = voxels[brain & (depth >= np.percentile(depth[brain], 75))]
    white = _mode(deep, low, high)
    grey = _mode(voxels[brain & (depth <= CORTEX_DEPTH_MM)], low, high)
    dark, bright = (float(v) / white for v in np.percentile(values, [2, 98]))
    evidence = {"grey_to_white": round(grey / white, 3), "dark_tail": round(dark, 3), "bright_tail": round(bright, 3)}
    if grey / white < T1_MAX_GREY_TO_WHITE:
        spread = _robust_sd(deep, white)
        enhancing = float(np.mean(values > white + ENHANCING_SD * spread))
        evidence["enhancing_share"] = round(enhancing, 4)
        confidence = _margin(grey / white, T1_MAX_GREY_TO_WHITE, 0.1)
        if enhancing > ENHANCING_SHARE:
            return ContrastCall("T1post", min(confidence, _margin(enhancing, ENHANCING_SHARE, 0.002)), evidence, white)
        return ContrastCall("T1", confidence, evidence, white)
    confidence = _margin(grey / white, T1_MAX_GREY_TO_WHITE, 0.1)
    if dark < FLAIR_MAX_DARK_TAIL:
        return ContrastCall("FLAIR", min(confidence, _margin(dark, FLAIR_MAX_DARK_TAIL, 0.15)), evidence, white)
    return ContrastCall("T2" if bright > T2_MIN_BRIGHT_TAIL else "PD",
                        min(confidence, _margin(bright, T2_MIN_BRIGHT_TAIL, 0.3)), evidence, white)


def _mode(values: np.ndarray, low: float, high: float) -> float:
    """The commonest value (peak of a lightly smoothed 100-bin histogram over ``low``–``high``)."""
    counts, edges = np.histogram(values, bins=100, range=(low, high))
    peak = int(np.argmax(ndi.gaussian_filter1d(counts.astype(np.float64), 2.0)))
    return float((edges[peak] + edges[peak + 1]) / 2)


def _robust_sd(values: np.ndarray, level: float) -> float:
    """Spread of the values around ``level`` (1.4826 × median absolute deviation)."""
    return 1.4826 * float(np.median(np.abs(values - level)))


def _margin(value: float, threshold: float, scale: float) -> float:
    """0 at the threshold, 1 once ``scale`` away from it."""
    return float(np.clip(abs(value - threshold) / scale, 0.0, 1.0))

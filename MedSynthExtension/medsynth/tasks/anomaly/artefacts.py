"""Scan-level artefact verdict: is this scan spoiled by motion, ghosting or a spike?

Why: a scan with an acquisition artefact makes every voxel look abnormal; a reader should learn
that before reading the heat map. Five features, each dimensionless and each turned into a robust
z-score against the same features of healthy training scans (median and MAD, in the model card):

* ``residual`` (``baseline_residual`` for the z-score baseline) — the median anomaly score over
  the brain: the model cannot reconstruct the scan as a whole (lesions are local and barely move
  a median; spikes and ghosts are global). Motion blur, however, is reconstructed as it is, which
  is why the physical features below are needed;
* ``spike`` — the strongest isolated peak of the k-space magnitude (outside its centre) above its
  3×3×3 neighbourhood median, in log units: a spike is one abnormal k-space sample;
* ``ghosting`` — periodicity of the k-space plane energy along any axis (every n-th
  phase-encoding line modulated), as the peak-to-median ratio of the spectrum of the detrended log
  plane-energy profile;
* ``background`` — mean intensity in the air ≥ 5 mm from the head relative to the head's median
  intensity (motion and ghosting smear signal out of the head). Not defined for brain-extracted
  scans, whose background was erased;
* ``blur`` — the fraction of the k-space energy above 0.01 cycles/mm (and within the 2 mm Nyquist
  box, ≤ 0.25 cycles/mm along every axis) that lies below 0.1 cycles/mm (motion mixes head
  positions and washes out fine detail). Measured in physical frequencies, so scans of any
  resolution are compared on the band a 2 mm scan has. Like ``background``, it is not used for brain-extracted scans: their spectrum lacks the
  skull and scalp the healthy reference scans have.

Verdict: the scan score is the largest feature z; the label is ``spike`` when the spike feature
passes the threshold, else ``ghosting`` when the ghosting feature does, else ``motion`` when the
residual, background or blur feature does (motion has no more specific signature), else ``none``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import scipy.ndimage as ndi
import SimpleITK as sitk

from medsynth.tasks.anomaly.brain_mask import foreground

FEATURES = ("residual", "baseline_residual", "spike", "ghosting", "background", "blur")
MOTION_FEATURES = ("residual", "baseline_residual", "background", "blur")
LABELS = ("none", "motion", "ghosting", "spike")
#: Smallest robust spread of a feature, so a feature that barely varies in healthy scans does
#: not turn noise into a verdict. The residual's floor is wide (0.3 z): its spread over the
#: training scans of one site understates how much it moves between scanners and protocols.
MIN_SPREAD = {"residual": 0.3, "baseline_residual": 0.3, "spike": 0.1, "ghosting": 0.5, "background": 0.001,
              "blur": 0.01}
#: Fraction of k-space (half-width per axis) treated as its centre for the spike search.
_CENTRE_FRACTION = 0.1
#: Candidate k-space peaks checked against their neighbourhood.
_CANDIDATES = 200


@dataclass(frozen=True)
class ArtefactVerdict:
    """``label`` (one of :data:`LABELS`), ``score`` (largest robust z, unitless), the raw features
    and their z-scores, and ``threshold`` (z above which a scan gets a label)."""

    label: str
    score: float
    threshold: float
    features: Mapping[str, float] = field(default_factory=dict)
    z_scores: Mapping[str, float] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        return self.label != "none"

    def message(self) -> str:
        """One sentence for the reader."""
        if not self.flagged:
            return f"No acquisition artefact detected (artefact score {self.score:.1f}, threshold {self.threshold:.1f})."
        return (f"Possible {self.label} artefact (artefact score {self.score:.1f} > {self.threshold:.1f}): "
                "check the scan's quality before reading the anomaly map.")

    def to_dict(self) -> dict:
        return {"label": self.label, "score": self.score, "threshold": self.threshold,
                "features": dict(self.features), "z_scores": dict(self.z_scores)}


def image_features(image: sitk.Image, brain_extracted: bool) -> dict[str, float]:
    """The k-space and background features of a scan on its own grid (residual excluded)."""
    voxels = sitk.GetArrayFromImage(image).astype(np.float32)
    magnitude = np.abs(np.fft.fftshift(np.fft.fftn(voxels)))
    features = {"spike": spike_feature(magnitude), "ghosting": ghosting_feature(magnitude)}
    if not brain_extracted:
        features["blur"] = blur_feature(magnitude, tuple(float(s) for s in reversed(image.GetSpacing())))
        features["background"] = background_feature(image, voxels)
    return features


def spike_feature(magnitude: np.ndarray) -> float:
    """Largest log-ratio of a non-central k-space magnitude to the median of its 3×3×3 neighbourhood."""
    shape = np.array(magnitude.shape)
    log_magnitude = np.log(magnitude + 1e-6)
    centre = np.ones(magnitude.shape, bool)
    box = tuple(slice(int(s // 2 - _CENTRE_FRACTION * s), int(s // 2 + _CENTRE_FRACTION * s) + 1) for s in shape)
    centre[box] = False
    # A coarse local baseline (mean of log over 5³) ranks candidates cheaply; the median check follows.
    baseline = ndi.uniform_filter(log_magnitude, 5)
    excess = np.where(centre, log_magnitude - baseline, -np.inf).ravel()
    candidates = np.argpartition(excess, -_CANDIDATES)[-_CANDIDATES:]
    best = -np.inf
    for flat in candidates:
        index = np.unravel_index(flat, magnitude.shape)
        window = tuple(slice(max(i - 1, 0), i + 2) for i in index)
        neighbours = np.delete(log_magnitude[window].ravel(), np.argmax(log_magnitude[window].ravel()))
        best = max(best, float(log_magnitude[index] - np.median(neighbours)))
    return best


def ghosting_feature(magnitude: np.ndarray) -> float:
    """Strongest periodic modulation of the k-space plane energy, over the three axes."""
    best = 0.0
    energy = magnitude.astype(np.float64) ** 2
    for axis in range(3):
        profile = np.log(energy.sum(axis=tuple(a for a in range(3) if a != axis)) + 1e-12)
        detrended = profile - ndi.median_filter(profile, size=9, mode="nearest")
        spectrum = np.abs(np.fft.rfft(detrended - detrended.mean()))[2:]  # periods of at least ~2 planes
        if spectrum.size:
            best = max(best, float(spectrum.max() / max(np.median(spectrum), 1e-9)))
    return best


def blur_feature(magnitude: np.ndarray, spacing_zyx: tuple[float, float, float] = (2.0, 2.0, 2.0)) -> float:
    """Fraction of the k-space energy above 0.01 cycles/mm (inside the 2 mm Nyquist box) below 0.1 cycles/mm."""
    axes = np.meshgrid(*[np.fft.fftshift(np.fft.fftfreq(n, d=s)) for n, s in zip(magnitude.shape, spacing_zyx)],
                       indexing="ij", sparse=True)
    radius = np.sqrt(sum(np.square(axis) for axis in axes))
    inside_box = (np.abs(axes[0]) <= 0.25 + 1e-9) & (np.abs(axes[1]) <= 0.25 + 1e-9) & (np.abs(axes[2]) <= 0.25 + 1e-9)
    energy = magnitude.astype(np.float64) ** 2
    band = (radius > 0.01) & inside_box
    return float(energy[band & (radius <= 0.1)].sum() / max(energy[band].sum(), 1e-12))


def background_feature(image: sitk.Image, voxels: np.ndarray) -> float:
    """Mean intensity of the air ≥ 5 mm away from the head, over the median intensity of the head."""
    head = foreground(image)
    spacing_zyx = tuple(float(s) for s in reversed(image.GetSpacing()))
    distance = ndi.distance_transform_edt(~head, sampling=spacing_zyx)
    air = distance >= 5.0
    if air.sum() < 100:
        return 0.0
    return float(np.mean(voxels[air]) / max(float(np.median(voxels[head])), 1e-6))


def verdict(features: Mapping[str, float], reference: Mapping[str, tuple[float, float]],
            threshold: float) -> ArtefactVerdict:
    """Robust z-scores of ``features`` against ``reference`` (feature → (median, spread)) and the label.

    Features without a reference are reported but not scored.
    """
    z = {}
    for name, value in features.items():
        if name in reference and np.isfinite(value):
            median, spread = reference[name]
            z[name] = float((value - median) / max(spread, MIN_SPREAD.get(name, 1e-6)))
    score = max(z.values()) if z else 0.0
    if z.get("spike", -np.inf) > threshold:
        label = "spike"
    elif z.get("ghosting", -np.inf) > threshold:
        label = "ghosting"
    elif max(z.get(name, -np.inf) for name in MOTION_FEATURES) > threshold:
        label = "motion"
    else:
        label = "none"
    return ArtefactVerdict(label, float(score), float(threshold), dict(features), z)


def reference_statistics(samples: list[Mapping[str, float]],
                         domains: Sequence[str] | None = None) -> dict[str, tuple[float, float]]:
    """(median, spread) of each feature over healthy scans (the card's ``artefact_reference``).

    The spread is 1.4826 × MAD over the scans; with ``domains`` (one name per sample: a scanner, a
    site, a template), it also holds how far each domain's median lies from the overall median
    (root mean square over the domains, added in quadrature). Why: scans of one scanner vary little
    between themselves, so a spread measured on them alone turns another scanner's clean scan —
    another resolution, background or k-space pattern — into an "artefact".
    """
    if domains is not None and len(domains) != len(samples):
        raise ValueError("give one domain per sample")
    reference = {}
    for name in FEATURES:
        kept = [(s[name], d) for s, d in zip(samples, domains or [None] * len(samples))
                if name in s and np.isfinite(s[name])]
        if not kept:
            continue
        values = np.array([v for v, _ in kept])
        median = float(np.median(values))
        within = 1.4826 * float(np.median(np.abs(values - median)))
        groups = sorted({d for _, d in kept if d is not None})
        between = (float(np.sqrt(np.mean([(np.median([v for v, d in kept if d == g]) - median) ** 2 for g in groups])))
                   if len(groups) > 1 else 0.0)
        reference[name] = (median, float(np.hypot(within, between)))
    return reference

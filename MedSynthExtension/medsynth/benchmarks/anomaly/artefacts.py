"""MR acquisition artefacts simulated in k-space (numpy versions of TorchIO's physics).

Each artefact is a small frozen dataclass with explicit parameters and a ``from_severity``
constructor that draws them from documented ranges with a seed, so a benchmark is reproducible
and its severity grades mean the same thing everywhere. ``apply(image)`` returns a new
SimpleITK image on the same grid (the magnitude of the modified k-space's inverse transform, as
a scanner reconstructs magnitude images); the input is never modified.

* :class:`KSpaceSpike` — a "herringbone" spike: one k-space sample of abnormal amplitude (a
  discharge in the coil or a loose contact) adds a plane wave (stripes) over the whole image.
  Amplitude is ``intensity × |DC|``, so the stripes' amplitude is ``intensity`` × the image mean.
* :class:`KSpaceGhosting` — periodic signal modulation between phase-encoding lines (pulsation,
  breathing, N/2 ghosts): every ``num_ghosts``-th k-space plane along the phase-encoding axis is
  scaled by ``1 − intensity``, which adds faint copies of the head shifted by FOV/``num_ghosts``.
  The central ``restore_center`` fraction of planes is left intact, as TorchIO does.
* :class:`KSpaceMotion` — rigid head motion during the acquisition: k-space is filled segment by
  segment along the phase-encoding axis, each segment from the head in a different position
  (rotations about the image centre and translations); the segment holding the k-space centre
  keeps the original position. Gives blurring, ringing and ghost-like smears.

Severity grades (``"mild"``, ``"moderate"``, ``"severe"``) fix the strength; the seed draws the
rest (axis, spike position, segment times, motion directions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

SEVERITIES = ("mild", "moderate", "severe")
ARTEFACT_TYPES = ("motion", "ghosting", "spike")

#: Spike amplitude relative to the DC component, per severity.
SPIKE_INTENSITY = {"mild": 0.1, "moderate": 0.3, "severe": 1.0}
#: Ghosting modulation depth (1 − scale of every n-th plane), per severity.
GHOST_INTENSITY = {"mild": 0.3, "moderate": 0.6, "severe": 0.9}
GHOST_COUNT_RANGE = (2, 6)
#: Largest rotation (degrees) and translation (mm) of a motion event, per severity.
MOTION_EXTENT = {"mild": (3.0, 3.0), "moderate": (6.0, 6.0), "severe": (10.0, 10.0)}
MOTION_EVENTS_RANGE = (2, 4)


def _check_severity(severity: str) -> None:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")


def _spectrum(voxels: np.ndarray) -> np.ndarray:
    return np.fft.fftshift(np.fft.fftn(voxels))


def _magnitude_image(spectrum: np.ndarray, like: sitk.Image) -> sitk.Image:
    voxels = np.abs(np.fft.ifftn(np.fft.ifftshift(spectrum))).astype(np.float32)
    out = sitk.GetImageFromArray(voxels)
    out.CopyInformation(like)
    return out


@dataclass(frozen=True)
class KSpaceSpike:
    """Spikes at ``positions`` (fractions 0–1 of each array axis, z, y, x, of the centred k-space)."""

    positions: tuple[tuple[float, float, float], ...]
    intensity: float

    @classmethod
    def from_severity(cls, severity: str, seed: int, num_spikes: int = 1) -> "KSpaceSpike":
        """Positions uniform in k-space outside the central 20 % (a spike at the centre only
        changes brightness), intensity :data:`SPIKE_INTENSITY` [severity]."""
        _check_severity(severity)
        rng = np.random.default_rng(seed)
        positions = []
        while len(positions) < num_spikes:
            p = rng.uniform(0.0, 1.0, 3)
            if np.max(np.abs(p - 0.5)) > 0.1:
                positions.append(tuple(float(v) for v in p))
        return cls(tuple(positions), SPIKE_INTENSITY[severity])

    def apply(self, image: sitk.Image) -> sitk.Image:
        voxels = sitk.GetArrayFromImage(image).astype(np.float64)
        spectrum = _spectrum(voxels)
        amplitude = self.intensity * np.abs(spectrum[tuple(s // 2 for s in spectrum.shape)])
        for position in self.positions:
            index = tuple(min(int(p * s), s - 1) for p, s in zip(position, spectrum.shape))
            spectrum[index] += amplitude
        return _magnitude_image(spectrum, image)


@dataclass(frozen=True)
class KSpaceGhosting:
    """Every ``num_ghosts``-th plane along array ``axis`` (0 = z, 1 = y, 2 = x) scaled by ``1 − intensity``."""

    num_ghosts: int
    axis: int
    intensity: float
    restore_center: float = 0.02

    @classmethod
    def from_severity(cls, severity: str, seed: int, axes: tuple[int, ...] = (0, 1, 2)) -> "KSpaceGhosting":
        """``num_ghosts`` uniform in :data:`GHOST_COUNT_RANGE`, axis uniform in ``axes``,
        intensity :data:`GHOST_INTENSITY` [severity]."""
        _check_severity(severity)
        rng = np.random.default_rng(seed)
        count = int(rng.integers(GHOST_COUNT_RANGE[0], GHOST_COUNT_RANGE[1] + 1))
        return cls(count, int(rng.choice(axes)), GHOST_INTENSITY[severity])

    def apply(self, image: sitk.Image) -> sitk.Image:
        voxels = sitk.GetArrayFromImage(image).astype(np.float64)
        spectrum = np.moveaxis(_spectrum(voxels), self.axis, 0)
        size = spectrum.shape[0]
        scale = np.ones(size)
        scale[:: self.num_ghosts] = 1.0 - self.intensity
        keep = int(round(self.restore_center * size / 2))
        middle = size // 2
        scale[max(middle - keep, 0): middle + keep + 1] = 1.0
        spectrum = spectrum * scale[:, None, None]
        return _magnitude_image(np.moveaxis(spectrum, 0, self.axis), image)


@dataclass(frozen=True)
class KSpaceMotion:
    """Rigid positions ``(rx, ry, rz degrees, tx, ty, tz mm)`` held from ``times`` (fractions of the
    acquisition, increasing) on, k-space filled along array ``axis`` in acquisition order."""

    times: tuple[float, ...]
    positions: tuple[tuple[float, float, float, float, float, float], ...]
    axis: int

    @classmethod
    def from_severity(cls, severity: str, seed: int, axes: tuple[int, ...] = (0, 1, 2)) -> "KSpaceMotion":
        """Number of motion events uniform in :data:`MOTION_EVENTS_RANGE`, event times uniform in
        (0, 1), each rotation/translation component uniform in ± :data:`MOTION_EXTENT` [severity]."""
        _check_severity(severity)
        rng = np.random.default_rng(seed)
        degrees, millimetres = MOTION_EXTENT[severity]
        count = int(rng.integers(MOTION_EVENTS_RANGE[0], MOTION_EVENTS_RANGE[1] + 1))
        times = tuple(float(t) for t in np.sort(rng.uniform(0.05, 0.95, count)))
        positions = tuple(tuple(float(v) for v in np.r_[rng.uniform(-degrees, degrees, 3),
                                                         rng.uniform(-millimetres, millimetres, 3)])
                          for _ in range(count))
        return cls(times, positions, int(rng.choice(axes)))

    def apply(self, image: sitk.Image) -> sitk.Image:
        voxels = sitk.GetArrayFromImage(image).astype(np.float64)
        size = voxels.shape[self.axis]
        edges = [0] + [int(round(t * size)) for t in self.times] + [size]
        middle = size // 2
        segment_of_centre = int(np.searchsorted(edges, middle, side="right")) - 1
        spectra = [_spectrum(voxels)]
        for position in self.positions:
            spectra.append(_spectrum(sitk.GetArrayFromImage(_moved(image, position)).astype(np.float64)))
        # The segment holding the k-space centre is acquired with the head in its reference position.
        order = list(range(1, len(spectra)))
        order.insert(segment_of_centre, 0)
        result = np.empty_like(spectra[0])
        for segment, source in enumerate(order):
            index = [slice(None)] * 3
            index[self.axis] = slice(edges[segment], edges[segment + 1])
            result[tuple(index)] = spectra[source][tuple(index)]
        return _magnitude_image(result, image)


def _moved(image: sitk.Image, position: tuple[float, ...]) -> sitk.Image:
    """The head moved rigidly about the image centre (linear interpolation, background 0)."""
    centre = image.TransformContinuousIndexToPhysicalPoint([(s - 1) / 2 for s in image.GetSize()])
    transform = sitk.Euler3DTransform(centre, *np.deg2rad(position[:3]), tuple(position[3:]))
    return sitk.Resample(image, image, transform, sitk.sitkLinear, 0.0, sitk.sitkFloat32)


def make_artefact(kind: str, severity: str, seed: int):
    """The artefact ``kind`` (one of :data:`ARTEFACT_TYPES`) at ``severity``, drawn with ``seed``."""
    classes = {"motion": KSpaceMotion, "ghosting": KSpaceGhosting, "spike": KSpaceSpike}
    if kind not in classes:
        raise ValueError(f"artefact kind must be one of {ARTEFACT_TYPES}, got {kind!r}")
    return classes[kind].from_severity(severity, seed)

"""Overlay pictures without Slicer: a grey slice with a heat map on top, written as PNG.

Used by the command line and the demo so a batch run leaves pictures a person can check. Slices
are shown in radiological convention (patient's right on the left of the picture, anterior /
superior at the top), with square pixels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.geometry.grid import covering_grid, direction_of
from medsynth.io.atomic import atomic_path

VIEWS = ("axial", "coronal", "sagittal")


def heat_colors(values: np.ndarray) -> np.ndarray:
    """Black-red-yellow-white heat colours (uint8 RGB) for values in [0, 1]."""
    v = np.clip(values, 0.0, 1.0)[..., None]
    red = np.clip(3 * v, 0, 1)
    green = np.clip(3 * v - 1, 0, 1)
    blue = np.clip(3 * v - 2, 0, 1)
    return (255 * np.concatenate([red, green, blue], axis=-1)).astype(np.uint8)


def display_slice(image: sitk.Image, view: str, fraction: float = 0.5, reference: sitk.Image | None = None,
                  interpolator: int = sitk.sitkLinear) -> np.ndarray:
    """A 2D float array of ``image`` along ``view`` at ``fraction`` of the way through the volume.

    ``reference`` (default: ``image``) fixes the grid, so a map and its background share pixels.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}")
    grid = _display_grid(reference or image)
    voxels = sitk.GetArrayFromImage(sitk.Resample(image, grid, sitk.Transform(), interpolator, 0.0, sitk.sitkFloat32))
    z, y, x = voxels.shape  # grid is LPS: x → left, y → posterior, z → superior
    if view == "axial":
        return voxels[min(int(fraction * z), z - 1)]
    if view == "coronal":
        return voxels[::-1, min(int(fraction * y), y - 1), :]
    return voxels[::-1, :, min(int(fraction * x), x - 1)]


def overlay_picture(background: sitk.Image, heat: sitk.Image | None = None, view: str = "axial",
                    fraction: float = 0.5, heat_range: tuple[float, float] | None = None,
                    threshold: float | None = None, opacity: float = 0.6,
                    window: tuple[float, float] | None = None) -> np.ndarray:
    """RGB uint8 picture: ``background`` in grey (``window`` = (low, high), default 1st–99th
    percentile) with ``heat`` blended on top where it is at least ``threshold``."""
    grey_values = display_slice(background, view, fraction)
    low, high = window or tuple(np.percentile(grey_values, [1, 99]))
    grey = np.clip((grey_values - low) / max(high - low, 1e-6), 0, 1)
    rgb = np.repeat((255 * grey)[..., None], 3, axis=-1)
    if heat is not None:
        heat_values = display_slice(heat, view, fraction, reference=background)
        lo, hi = heat_range or (float(np.min(heat_values)), float(np.max(heat_values)))
        scaled = (heat_values - lo) / max(hi - lo, 1e-12)
        shown = heat_values >= (threshold if threshold is not None else lo + 1e-12 * (hi - lo))
        rgb[shown] = (1 - opacity) * rgb[shown] + opacity * heat_colors(scaled)[shown]
    return rgb.astype(np.uint8)


#: 5×7 glyphs of the banner's words (rows top to bottom, '#' = ink).
_GLYPHS = {
    "A": ".###.#...##...#######...##...##...#", "D": "####.#...##...##...##...##...#####.",
    "E": "######....####.#....#....#....#####", "H": "#...##...##...#######...##...##...#",
    "I": ".###...#....#....#....#....#...###.", "L": "#....#....#....#....#....#....#####",
    "M": "#...###.###.#.##...##...##...##...#", "N": "#...###..##.#.##..###...##...##...#",
    "O": ".###.#...##...##...##...##...#.###.", "S": ".#####....#.....###.....#....#####.",
    "T": "#####..#....#....#....#....#....#..", "U": "#...##...##...##...##...##...#.###.",
    "V": "#...##...##...##...##...#.#.#...#..", " ": "." * 35,
}
OUTSIDE_BANNER = "OUTSIDE THE VALIDATED DOMAIN"


def with_banner(rgb: np.ndarray, text: str = OUTSIDE_BANNER) -> np.ndarray:
    """``rgb`` with a red caption band on top reading ``text`` in white (letters of :data:`_GLYPHS`),
    so a picture of an outside-domain run says so wherever it is copied."""
    scale = max(1, min(3, rgb.shape[1] // (6 * len(text) + 4)))
    band = np.zeros((9 * scale, rgb.shape[1], 3), np.uint8)
    band[..., 0] = 190
    x = 2 * scale
    for letter in text.upper():
        glyph = np.array([[c == "#" for c in _GLYPHS.get(letter, _GLYPHS[" "])[row * 5:row * 5 + 5]]
                          for row in range(7)])
        ink = np.kron(glyph, np.ones((scale, scale), bool))
        width = min(ink.shape[1], band.shape[1] - x)
        if width <= 0:
            break
        band[scale:scale + ink.shape[0], x:x + width][ink[:, :width]] = 255
        x += 6 * scale
    return np.concatenate([band, rgb], axis=0)


def write_png(rgb: np.ndarray, path: str | os.PathLike, outside_domain: str | None = None) -> Path:
    """Write an (h, w, 3) uint8 array as a PNG, atomically; with an ``outside_domain`` stamp the
    picture gets the :func:`with_banner` caption."""
    if outside_domain:
        rgb = with_banner(rgb)
    with atomic_path(path, suffix=".png") as tmp:
        sitk.WriteImage(sitk.GetImageFromArray(np.ascontiguousarray(rgb), isVector=True), str(tmp))
    return Path(path)


def _display_grid(image: sitk.Image) -> sitk.Image:
    """An LPS-aligned grid with isotropic voxels (the finest input spacing) covering ``image``."""
    spacing = min(image.GetSpacing())
    return covering_grid(image, direction_of("LPS"), np.full(3, spacing), None)

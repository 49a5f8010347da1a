"""Small synthetic anatomies with MUSE labels, for fast tests of the future-MRI physics and training.

A head phantom of nested ellipsoids on a 2 mm grid: external CSF (MUSE 1) around cortex (100),
white matter (81), a deep-grey nucleus (59), ventricles (51), hippocampi (47/48), amygdalae
(31/32) and a cerebellum (38), with T1-like intensities (white matter brightest, CSF darkest).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

#: The built-in model and the held-out evaluation setting the tests check (age, interval in years).
MODEL_ID = "future-t1-brain"
EVALUATION_AGE, EVALUATION_YEARS = 72.0, 2.0
#: Intervals of the monotonicity check (0 included: the identity).
SERIES_YEARS = (0.0, 2.0, 5.0, 10.0)

#: T1-like intensity per MUSE label (arbitrary MR units).
T1_INTENSITY = {0: 5.0, 1: 30.0, 100: 70.0, 81: 110.0, 59: 85.0, 51: 25.0, 47: 72.0, 48: 72.0, 31: 74.0, 32: 74.0,
                38: 80.0}


def _ellipsoid(shape, centre, radii) -> np.ndarray:
    z, y, x = np.indices(shape, dtype=np.float32)
    return (((z - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 + ((x - centre[2]) / radii[2]) ** 2) <= 1


def phantom(shape=(40, 40, 40), spacing=(2.0, 2.0, 2.0), direction=None, seed=0) -> tuple[sitk.Image, sitk.Image]:
    """(T1, MUSE labels) of the head phantom; ``direction`` (9 numbers) defaults to identity."""
    c = np.asarray(shape) / 2
    labels = np.zeros(shape, np.uint8)
    s = np.asarray(shape) / 48.0
    labels[_ellipsoid(shape, c, 21 * s)] = 1
    labels[_ellipsoid(shape, c, 19 * s)] = 100
    labels[_ellipsoid(shape, c, 16 * s)] = 81
    labels[_ellipsoid(shape, c + np.array([0, 3, 0]) * s, np.array([4, 5, 5]) * s)] = 59
    labels[_ellipsoid(shape, c + np.array([2, -2, -5]) * s, np.array([3, 6, 2]) * s)] = 51
    labels[_ellipsoid(shape, c + np.array([2, -2, 5]) * s, np.array([3, 6, 2]) * s)] = 51
    labels[_ellipsoid(shape, c + np.array([-4, -4, -9]) * s, np.array([2.5, 5, 2.5]) * s)] = 47
    labels[_ellipsoid(shape, c + np.array([-4, -4, 9]) * s, np.array([2.5, 5, 2.5]) * s)] = 48
    labels[_ellipsoid(shape, c + np.array([-4, 3, -9]) * s, np.array([2.5, 2.5, 2.5]) * s)] = 31
    labels[_ellipsoid(shape, c + np.array([-4, 3, 9]) * s, np.array([2.5, 2.5, 2.5]) * s)] = 32
    labels[_ellipsoid(shape, c + np.array([-11, -10, 0]) * s, np.array([4, 4, 8]) * s)] = 38
    lookup = np.zeros(256, np.float32)
    for label, value in T1_INTENSITY.items():
        lookup[label] = value
    rng = np.random.default_rng(seed)
    t1 = lookup[labels] + rng.normal(0, 1.5, shape).astype(np.float32)
    images = []
    for array in (np.clip(t1, 0, None).astype(np.float32), labels):
        image = sitk.GetImageFromArray(array)
        image.SetSpacing(spacing)
        image.SetOrigin((-40.0, 12.5, -30.0))
        if direction is not None:
            image.SetDirection(direction)
        images.append(image)
    return images[0], images[1]

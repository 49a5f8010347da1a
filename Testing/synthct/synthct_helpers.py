"""Helpers shared by the synthetic-CT tests."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk


def snapshot(image: sitk.Image) -> tuple:
    """Voxels and geometry of an image, to check later that nothing modified it."""
    return (sitk.GetArrayFromImage(image).copy(), image.GetOrigin(), image.GetSpacing(), image.GetDirection(),
            image.GetPixelID())


def assert_unchanged(image: sitk.Image, before: tuple) -> None:
    after = snapshot(image)
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1:] == before[1:]

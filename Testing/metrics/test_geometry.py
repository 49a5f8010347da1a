"""Dice and HD95 on shapes whose values are known analytically; threshold structures of a toy CT."""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.metrics.geometry import dice, evaluate_geometry, hd95, surface, threshold_structures


def _slab(shape: tuple[int, int, int], start: int, stop: int) -> np.ndarray:
    """Mask filling the whole field of view in y and z, voxels [start, stop) along x."""
    mask = np.zeros(shape, dtype=bool)
    mask[:, :, start:stop] = True
    return mask


def test_dice_of_overlapping_cubes_is_the_count_ratio():
    a = np.zeros((10, 10, 10), bool)
    b = np.zeros((10, 10, 10), bool)
    a[0:4, 0:4, 0:4] = True  # 64 voxels
    b[2:6, 0:4, 0:4] = True  # 64 voxels, 32 shared
    assert dice(a, b) == pytest.approx(2 * 32 / 128)
    assert dice(a, a) == 1.0
    assert dice(a, ~a) == 0.0
    assert dice(np.zeros(3), np.zeros(3)) == 1.0


@pytest.mark.parametrize("shift", [1, 2, 3])
def test_hd95_of_a_shifted_slab_is_the_shift_in_mm(shift):
    # Both faces of the slab move by `shift` voxels along x (spacing 2 mm): every surface voxel is
    # exactly shift*2 mm from the other surface, so every percentile equals it.
    shape = (5, 6, 30)
    a, b = _slab(shape, 5, 20), _slab(shape, 5 + shift, 20 + shift)
    spacing = (3.0, 1.0, 2.0)
    assert hd95(a, b, spacing) == pytest.approx(2.0 * shift)
    assert hd95(a, a, spacing) == 0.0


def test_field_of_view_edge_is_not_a_surface():
    slab = _slab((4, 4, 10), 2, 6)
    faces = surface(slab)
    assert faces[:, :, 2].all() and faces[:, :, 5].all()
    assert not faces[:, :, 3:5].any()


def test_hd95_of_concentric_spheres_is_the_radius_difference():
    # Outer-to-inner and inner-to-outer distances are both r2 - r1 for continuous spheres;
    # voxelisation at 0.5 mm moves them by at most about one voxel diagonal.
    n, h = 81, 0.5
    grid = (np.indices((n, n, n)) - n // 2) * h
    radius = np.sqrt((grid**2).sum(axis=0))
    inner, outer = radius <= 8.0, radius <= 12.0
    assert hd95(inner, outer, (h, h, h)) == pytest.approx(4.0, abs=math.sqrt(3) * h)


def test_hd95_with_one_empty_mask_is_nan():
    a = np.zeros((5, 5), bool)
    a[1:3, 1:3] = True
    assert math.isnan(hd95(a, np.zeros_like(a), (1.0, 1.0)))
    assert hd95(np.zeros_like(a), np.zeros_like(a), (1.0, 1.0)) == 0.0


def _toy_head(shift_bone: int = 0) -> np.ndarray:
    """Water ellipsoid in air, a bone shell, and an air cavity inside."""
    shape = (20, 40, 40)
    z, y, x = np.indices(shape)
    r = np.sqrt(((z - 10) / 8.0) ** 2 + ((y - 20) / 16.0) ** 2 + ((x - 20) / 16.0) ** 2)
    ct = np.full(shape, -1000.0)
    ct[r <= 1.0] = 40.0
    ct[(r > 0.8) & (r <= 0.9)] = 1000.0
    ct[(np.abs(z - 10) <= 1) & (np.abs(y - 20) <= 2) & (np.abs(x - 20 - shift_bone) <= 2)] = -900.0
    return ct


def test_threshold_structures_of_a_toy_head():
    ct = _toy_head()
    s = threshold_structures(ct)
    assert s["body"].sum() == np.count_nonzero(ct > -1000)  # the cavity is enclosed, so filled in
    assert s["bone"].sum() == np.count_nonzero(ct == 1000.0)
    assert s["air_cavities"].sum() == np.count_nonzero(ct == -900.0)


def test_evaluate_geometry_identity_and_shifted_cavity():
    ct = sitk.GetImageFromArray(_toy_head())
    ct.SetSpacing((1.0, 1.0, 2.0))
    same = {r.name: r for r in evaluate_geometry(ct, ct)}
    assert all(r.dice == 1.0 and r.hd95_mm == 0.0 for r in same.values())
    moved = sitk.GetImageFromArray(_toy_head(shift_bone=2))
    moved.CopyInformation(ct)
    result = {r.name: r for r in evaluate_geometry(ct, moved)}
    assert result["body"].dice == 1.0
    assert result["air_cavities"].dice == pytest.approx(2 * 3 / 10)  # 5 columns along x, 3 shared
    assert result["air_cavities"].hd95_mm == pytest.approx(2.0)


def test_user_segmentations_compared_label_by_label():
    ct = _toy_head()
    seg = np.zeros(ct.shape, np.uint8)
    seg[5:10, 5:10, 5:10] = 3
    other = np.roll(seg, 1, axis=2)
    result = {r.name: r for r in evaluate_geometry(ct, ct, (2.0, 1.0, 1.0), seg, other)}
    assert result["label_3"].dice == pytest.approx(2 * 100 / 250)


def test_mismatched_grids_are_refused():
    with pytest.raises(InputError, match="same shape"):
        evaluate_geometry(np.zeros((4, 4)), np.zeros((4, 5)), (1.0, 1.0))

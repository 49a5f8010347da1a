"""The deformation physics shared by the simulator and the run-time task (medsynth.tasks.future_field)."""

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage as ndi

from medsynth.errors import InputError
from medsynth.tasks.future_field import (close_volume_budget, displacement_transform, exponentiate, jacobian_determinant,
                                         velocity_from_change, volume_ratio, warp)

SPACING = (2.0, 2.0, 2.0)


def _blob(shape=(40, 40, 40), centre=(20, 20, 20), sigma=3.0, amplitude=-10.0):
    impulse = np.zeros(shape)
    impulse[centre] = 1.0
    blob = ndi.gaussian_filter(impulse, sigma)
    return amplitude * blob / blob.max()


def test_close_volume_budget_moves_the_net_change_into_the_compensating_region_only():
    change = _blob()
    csf = np.zeros_like(change)
    csf[:3] = 1.0
    closed = close_volume_budget(change, csf)
    assert abs(closed.sum()) < 1e-9 * np.abs(change).sum()
    assert np.array_equal(closed[3:], change[3:])
    assert np.all(closed[:3] > change[:3])  # the CSF expands to take up the loss
    with pytest.raises(InputError, match="external CSF"):
        close_volume_budget(change, np.zeros_like(change))


def test_zero_change_gives_exactly_no_motion():
    zero = np.zeros((16, 18, 20))
    velocity = velocity_from_change(zero, SPACING)
    assert not velocity.any()
    assert not exponentiate(velocity, SPACING).any()
    assert np.all(volume_ratio(velocity, SPACING) == 1.0)


def test_velocity_divergence_is_the_imposed_change_for_a_smooth_source():
    change = close_volume_budget(_blob(sigma=4.0), np.ones((40, 40, 40)))
    velocity = velocity_from_change(change, SPACING)
    divergence = sum(np.gradient(velocity[axis], SPACING[axis], axis=axis) for axis in range(3))
    inner = (slice(5, -5),) * 3
    # central differences see the 7-point Laplacian's source to O(h²/σ²): within 10 % of the peak here
    assert np.abs(divergence[inner] + change[inner] / 100.0).max() < 0.1 * np.abs(change).max() / 100.0


def test_volume_ratio_of_a_region_matches_the_imposed_log_change():
    shape = (48, 48, 48)
    region = np.zeros(shape, bool)
    region[18:30, 18:30, 18:30] = True
    for imposed in (-5.0, -20.0, 10.0):
        change = close_volume_budget(ndi.gaussian_filter(region * imposed, 1.0), np.ones(shape))
        ratio = volume_ratio(velocity_from_change(change, SPACING), SPACING)
        weights = ndi.gaussian_filter(region.astype(float), 1.0)
        measured = 100 * np.log((weights * ratio).sum() / weights.sum())
        expected = (weights * change).sum() / weights.sum()
        assert measured == pytest.approx(expected, rel=0.1)


def test_flow_does_not_fold_even_for_large_changes_and_inverts():
    change = close_volume_budget(_blob(amplitude=-150.0, sigma=2.0), np.ones((40, 40, 40)))
    velocity = velocity_from_change(change, SPACING)
    forward, backward = exponentiate(velocity, SPACING), exponentiate(-velocity, SPACING)
    assert jacobian_determinant(forward, SPACING).min() > 0
    grid = np.indices(forward.shape[1:], dtype=np.float32)
    steps = np.asarray(SPACING, np.float32)[:, None, None, None]
    round_trip = forward + np.stack([ndi.map_coordinates(c, grid + forward / steps, order=1) for c in backward])
    inner = (slice(None),) + (slice(4, -4),) * 3
    assert np.abs(round_trip[inner]).max() < 0.1 * np.abs(forward).max()


@pytest.mark.parametrize("direction", [None, (0, 0, -1, 1, 0, 0, 0, 1, 0), (0.8, -0.6, 0, 0.6, 0.8, 0, 0, 0, 1)],
                         ids=["identity", "PSR", "oblique"])
def test_displacement_transform_follows_the_grid_axes(direction):
    array = np.random.default_rng(0).random((10, 12, 14)).astype(np.float32)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((1.5, 2.0, 2.5))
    if direction is not None:
        image.SetDirection(direction)
    displacement = np.zeros((3,) + array.shape, np.float32)
    displacement[0] = 2.5  # one voxel along the z (third index) axis
    moved = sitk.GetArrayFromImage(warp(image, displacement_transform(displacement, image), "nearest"))
    assert np.array_equal(moved[:-1], array[1:])  # follow-up(x) = baseline(x + one voxel along k)

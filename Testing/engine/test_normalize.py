"""Intensity normalisation schemes named in cards, checked against direct numpy formulas."""

import numpy as np
import pytest

from medsynth.errors import InputError
from medsynth.models.card import Normalization
from medsynth.normalize import normalize


@pytest.fixture
def voxels():
    rng = np.random.default_rng(3)
    data = rng.gamma(2.0, 50.0, size=(20, 21, 22)).astype(np.float32)
    data[:3] = 0  # background
    return data


def test_percentile_maps_foreground_percentiles_to_target_range(voxels):
    spec = Normalization("percentile", lower_percentile=2, upper_percentile=98, target_range=(-1.0, 1.0))
    out = normalize(voxels, spec)
    low, high = np.percentile(voxels[voxels != 0], [2, 98])
    expected = (np.clip(voxels, low, high) - low) / (high - low) * 2 - 1
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_zscore_inside_the_nonzero_mask(voxels):
    out = normalize(voxels, Normalization("zscore", mask="nonzero"))
    foreground = out[voxels != 0]
    assert abs(foreground.mean()) < 1e-4 and abs(foreground.std() - 1) < 1e-4


def test_linear_and_none(voxels):
    np.testing.assert_allclose(normalize(voxels, Normalization("linear", offset=10, scale=0.5)), (voxels - 10) * 0.5)
    assert np.array_equal(normalize(voxels, Normalization("none")), voxels)


def test_input_is_not_modified(voxels):
    before = voxels.copy()
    normalize(voxels, Normalization("percentile"))
    assert np.array_equal(voxels, before)


def test_empty_foreground_is_a_clear_error():
    with pytest.raises(InputError, match="no foreground"):
        normalize(np.zeros((5, 5, 5)), Normalization("zscore", mask="nonzero"))

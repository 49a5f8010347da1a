"""A body mask from another image or space is refused, not resampled into a wrong outline: the real
whole-head sample (Testing/data, MIT) with its own outline, a shifted copy, and a block off the head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.io import read_image
from medsynth.tasks.masks import head_mask
from medsynth.tasks.synthct import synth_ct

HEAD = Path(__file__).resolve().parents[1] / "data" / "head_mr_skull_2mm.nii.gz"


@pytest.fixture(scope="module")
def mr() -> sitk.Image:
    return read_image(HEAD)


def test_own_outline_is_accepted(mr):
    result = synth_ct(mr, mask=head_mask(mr))
    assert result.ct.GetSize() == mr.GetSize()
    assert np.array_equal(sitk.GetArrayViewFromImage(result.mask) > 0, sitk.GetArrayViewFromImage(head_mask(mr)) > 0)


def test_a_mask_from_another_space_is_refused(mr):
    moved = head_mask(mr)
    moved.SetOrigin(tuple(np.asarray(mr.GetOrigin()) + (120.0, 0.0, 0.0)))  # the same shape 12 cm away
    with pytest.raises(InputError, match="lie inside the MR's field of view"):
        synth_ct(mr, mask=moved)


def test_a_mask_off_the_head_is_refused(mr):
    values = np.zeros(sitk.GetArrayViewFromImage(mr).shape, np.uint8)
    values[:6, :6, :6] = 1  # a corner of the field of view: air, not head
    corner = sitk.GetImageFromArray(values)
    corner.CopyInformation(mr)
    with pytest.raises(InputError, match="lies on the head"):
        synth_ct(mr, mask=corner)

"""synth_ct on real MRs with the built-in model: geometry, HU sanity, air outside, uncertainty, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from synthct_helpers import assert_unchanged, snapshot

from medsynth.errors import InputError
from medsynth.tasks.masks import head_mask
from medsynth.tasks.synthct import TTA_VARIANTS, synth_ct


def _array(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image)


def test_real_mr_gives_plausible_ct_on_the_input_grid(builtin_entry, head_mr, test_data):
    before = snapshot(head_mr)
    result = synth_ct(head_mr, builtin_entry)
    assert_unchanged(head_mr, before)
    ct = result.ct
    assert ct.GetSize() == head_mr.GetSize()
    assert np.allclose(ct.GetOrigin(), head_mr.GetOrigin()) and np.allclose(ct.GetDirection(), head_mr.GetDirection())
    values, inside = _array(ct), _array(result.mask) > 0
    clip = builtin_entry.card.outputs[0].clip
    assert values.min() >= clip[0] and values.max() <= clip[1]
    assert np.all(values[~inside] == builtin_entry.card.outputs[0].background_value)
    # Anatomy: soft tissue dominates the head, some of it is bone, and the deep brain is brain-like.
    assert -100 < np.median(values[inside]) < 100
    assert 0.02 < np.mean(values[inside] > 300) < 0.4
    brain = sitk.Resample(sitk.ReadImage(str(test_data / "head_mr_skull" / "Brain.nrrd")), head_mr, sitk.Transform(),
                          sitk.sitkNearestNeighbor, 0)  # the brain mask drawn for this person
    deep_brain = values[sitk.GetArrayFromImage(sitk.BinaryErode(brain, [2, 2, 2])) > 0]
    assert 0 < np.median(deep_brain) < 60
    assert result.uncertainty is None and result.passes == 1
    attributes = {key: ct.GetMetaData(key) for key in ct.GetMetaDataKeys()}
    assert attributes["MedSynth.Synthetic"] == "YES" and attributes["MedSynth.ModelId"] == builtin_entry.card.id


def test_uncertainty_is_a_spread_in_hu_inside_the_mask(builtin_entry, head_mr):
    before = snapshot(head_mr)
    result = synth_ct(head_mr, builtin_entry, uncertainty=True, tta_passes=2)
    assert_unchanged(head_mr, before)
    spread, inside = _array(result.uncertainty), _array(result.mask) > 0
    assert result.passes == 2 and result.uncertainty.GetSize() == head_mr.GetSize()
    assert np.all(spread >= 0) and np.all(spread[~inside] == 0)
    assert spread[inside].mean() > 0.1
    # Bone/air borders are less certain than the middle of the brain.
    values = _array(result.ct)
    bone = inside & (values > 300)
    brain_like = inside & (np.abs(values - 30) < 15)
    assert spread[bone].mean() > spread[brain_like].mean()


def test_a_given_mask_decides_where_air_goes(builtin_entry, head_mr):
    mask = head_mask(head_mr)
    smaller = sitk.BinaryErode(mask, [3, 3, 3])
    result = synth_ct(head_mr, builtin_entry, mask=smaller)
    outside = _array(smaller) == 0
    assert np.all(_array(result.ct)[outside] == -1024)
    assert result.provenance.parameters["mask"] == "given"


def test_ct_given_as_mr_is_refused(builtin_entry, test_data):
    ct = sitk.ReadImage(str(test_data / "scct_hu.nii.gz"))
    before = snapshot(ct)
    with pytest.raises(InputError, match="looks like a CT"):
        synth_ct(ct, builtin_entry)
    assert_unchanged(ct, before)


def test_2d_image_is_refused(builtin_entry, head_mr):
    with pytest.raises(InputError, match="2D"):
        synth_ct(head_mr[:, :, 36], builtin_entry)


@pytest.mark.parametrize("crop", ["slab", "body"])
def test_wrong_field_of_view_is_refused(builtin_entry, head_mr, crop):
    if crop == "slab":
        image = head_mr[:, :, 30:50]  # 20 slices × 2 mm = 40 mm: a slab, not a head
    else:
        image = sitk.Image(head_mr)
        image.SetSpacing([6.0, 6.0, 6.0])  # 480 × 624 × 432 mm: a body-sized field of view
    with pytest.raises(InputError, match="whole heads"):
        synth_ct(image, builtin_entry)


def test_nan_voxels_are_refused(builtin_entry, head_mr):
    voxels = _array(head_mr).astype(np.float32)
    voxels[40, 60, 60] = np.nan
    image = sitk.GetImageFromArray(voxels)
    image.CopyInformation(head_mr)
    before = snapshot(image)
    with pytest.raises(InputError, match="NaN"):
        synth_ct(image, builtin_entry)
    np.testing.assert_array_equal(_array(image), before[0])


def test_empty_mask_and_bad_tta_are_refused(builtin_entry, head_mr):
    empty = sitk.Image(head_mr.GetSize(), sitk.sitkUInt8)
    empty.CopyInformation(head_mr)
    with pytest.raises(InputError, match="mask is empty"):
        synth_ct(head_mr, builtin_entry, mask=empty)
    with pytest.raises(InputError, match="tta_passes"):
        synth_ct(head_mr, builtin_entry, tta_passes=len(TTA_VARIANTS) + 1)
    with pytest.raises(InputError, match="at least 2"):
        synth_ct(head_mr, builtin_entry, uncertainty=True, tta_passes=1)

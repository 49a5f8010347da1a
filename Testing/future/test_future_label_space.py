"""A label map from another image or space, or an empty one, is refused before the future-MRI model
runs (the check synth-ct applies to its mask, tasks.masks.mask_on_grid), on the committed real head
MR (Testing/data, MIT): the same map on the T1's own grid passes that check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.io import read_image
from medsynth.tasks.future import predict_future
from medsynth.tasks.masks import head_mask

HEAD = Path(__file__).resolve().parents[1] / "data" / "head_mr_skull_2mm.nii.gz"
NOT_MUSE = 17  # a FreeSurfer aseg value: refused by the label grouping, which comes after the space check


@pytest.fixture(scope="module")
def t1() -> sitk.Image:
    return read_image(HEAD)


def _labels(t1: sitk.Image, values: np.ndarray, shift_mm: float = 0.0) -> sitk.Image:
    labels = sitk.GetImageFromArray(values.astype(np.uint8))
    labels.CopyInformation(t1)
    labels.SetOrigin(tuple(np.asarray(t1.GetOrigin()) + (shift_mm, 0.0, 0.0)))
    return labels


def _predict(t1, labels, model):
    return predict_future(t1, 72.0, "F", "CN", 2.0, labels=labels, model=model, allow_outside=True)


def test_labels_on_the_t1s_own_grid_pass_the_space_check(t1, future_model):
    own = (sitk.GetArrayFromImage(head_mask(t1)) > 0) * NOT_MUSE
    with pytest.raises(InputError, match="not MUSE/DLMUSE labels"):
        _predict(t1, _labels(t1, own), future_model)


@pytest.mark.parametrize("case, words", [
    ("moved", "lie inside the T1's field of view: the label map belongs to another image or space"),
    ("empty", "The label map is empty"),
    ("off-head", "lies on the head in this T1: the label map belongs to another image or space"),
])
def test_labels_from_another_space_or_empty_are_refused(t1, future_model, case, words):
    head = sitk.GetArrayFromImage(head_mask(t1)) > 0
    if case == "moved":
        labels = _labels(t1, head * NOT_MUSE, shift_mm=120.0)  # the same map 12 cm away
    elif case == "empty":
        labels = _labels(t1, np.zeros(head.shape))
    else:
        corner = np.zeros(head.shape)
        corner[:6, :6, :6] = NOT_MUSE  # air in a corner of the field of view
        labels = _labels(t1, corner)
    before = sitk.GetArrayFromImage(t1).copy()
    with pytest.raises(InputError, match=words):
        _predict(t1, labels, future_model)
    assert np.array_equal(sitk.GetArrayFromImage(t1), before)

"""Head masks from the MR and the simple synthetic-CT baselines, checked by hand and on real data."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from synthct_helpers import assert_unchanged, snapshot

from medsynth.errors import InputError
from medsynth.tasks import synthct_baselines as baselines
from medsynth.tasks.masks import fill_holes, head_mask, otsu_threshold
from medsynth.training.synthct.validation import dice, mae_hu, template_head_mask


def test_otsu_splits_two_populations():
    values = np.concatenate([np.full(1000, 10.0), np.full(1000, 50.0)])
    assert 10 <= otsu_threshold(values) < 50


def test_fill_holes_closes_a_head_open_at_the_neck():
    shell = np.zeros((20, 20, 20), bool)
    shell[:, 3:17, 3:17] = True
    shell[:, 5:15, 5:15] = False  # a tube: no closed 3D hole, but closed in every axial slice
    filled = fill_holes(shell)
    assert filled[:, 5:15, 5:15].all()


def test_head_mask_of_a_real_mr_covers_the_head(test_data):
    mr = sitk.ReadImage(str(test_data / "head_mr_skull_2mm.nii.gz"))
    before = snapshot(mr)
    mask = head_mask(mr)
    assert_unchanged(mr, before)
    assert mask.GetSize() == mr.GetSize() and mask.GetPixelID() == sitk.sitkUInt8
    # The skull and brain masks drawn for this person (Seg3D), on the MR's grid.
    skull = sitk.Resample(sitk.ReadImage(str(test_data / "head_mr_skull" / "BrainSkull.nrrd")), mr, sitk.Transform(),
                          sitk.sitkNearestNeighbor, 0)
    inside, drawn = sitk.GetArrayFromImage(mask) > 0, sitk.GetArrayFromImage(skull) > 0
    assert inside[drawn].mean() > 0.98  # brain and skull are inside
    assert inside.sum() > 1.1 * drawn.sum()  # and more: the scalp around the skull
    assert inside.mean() < 0.8  # the corners of the box are not


def test_head_mask_refuses_an_image_without_foreground():
    flat = sitk.Image([8, 8, 8], sitk.sitkFloat32)
    flat[0, 0, 0] = np.nan
    with pytest.raises(InputError):
        head_mask(flat)


def test_baselines_by_hand():
    probabilities = np.zeros((6, 1, 1, 3), np.float32)
    probabilities[:, 0, 0, 0] = [1, 0, 0, 0, 0, 0]
    probabilities[:, 0, 0, 1] = [0, 0, 0, 0.6, 0.4, 0]
    probabilities[:, 0, 0, 2] = [0, 0, 0, 0, 0.5, 0.5]
    bulk = baselines.bulk_density(probabilities)[0, 0]
    weighted = baselines.probability_weighted(probabilities)[0, 0]
    np.testing.assert_allclose(bulk, [34, 517, 9])
    np.testing.assert_allclose(weighted, [34, 0.6 * 517 + 0.4 * 9, 0.5 * 9 - 0.5 * 964], rtol=1e-6)
    ct = np.array([0.0, 10.0, 20.0, 1000.0])
    assert baselines.best_constant(ct, np.array([1, 1, 1, 0])) == 10.0
    with pytest.raises(InputError):
        baselines.best_constant(ct, np.zeros(4))


def test_metric_helpers_by_hand():
    ct = np.array([0.0, 100.0, -1000.0]).reshape(1, 1, 3)
    sct = np.array([10.0, 50.0, 0.0]).reshape(1, 1, 3)
    assert mae_hu(ct, sct, np.array([1, 1, 0]).reshape(1, 1, 3)) == pytest.approx(30.0)
    assert dice(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool)) == pytest.approx(0.5)


def test_tpm_probabilities_on_the_template_grid(shared_data):  # SPM's TPM is GPL: only in ../shared
    mr = sitk.ReadImage(str(shared_data / "templates" / "avg152T1.nii.gz"))
    probabilities = baselines.tpm_probabilities(sitk.ReadImage(str(shared_data / "templates" / "TPM.nii.gz")), mr)
    assert probabilities.shape == (6,) + mr.GetSize()[::-1]
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0, atol=1e-4)
    ct = sitk.GetArrayFromImage(sitk.ReadImage(str(shared_data / "templates" / "scct_hu.nii.gz")))
    mask = template_head_mask(ct)
    bone = probabilities.argmax(axis=0) == 3
    assert np.median(ct[bone & mask]) > np.median(ct[(probabilities.argmax(axis=0) == 1) & mask])


def test_template_registration_is_reproducible_and_leaves_itk_threads_alone(test_data, mean_head_file):
    """The baselines' tissue classes must not change from run to run (a seeded, single-thread registration)."""
    mr = sitk.ReadImage(str(test_data / "head_mr_skull_2mm.nii.gz"))
    template = sitk.ReadImage(str(mean_head_file))  # a whole-head mean T1, as avg152T1 is
    threads = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    first, second = (baselines.register_template(template, mr, spacing_mm=6.0) for _ in range(2))
    assert first.GetParameters() == second.GetParameters()
    assert sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() == threads
    # A registration, not the identity: the person's head is placed elsewhere than the mean head and sized otherwise.
    assert np.abs(np.asarray(first.GetParameters()[:9]) - np.eye(3).ravel()).max() > 0.02

"""The built-in future-MRI model on held-out subjects: identity at 0 years, monotonic change,
AD > MCI > CN and literature ranges measured on the model's output, better than "no change"."""

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage as ndi

from future_helpers import EVALUATION_AGE, EVALUATION_YEARS, SERIES_YEARS
from medsynth.io import read_image
from medsynth.tasks.future_field import displacement_transform, warp
from medsynth.training.future.literature import literature_range


def test_zero_years_returns_the_input_and_leaves_it_unchanged(held_out, held_out_predictions):
    for subject_id, (subject, t1, labels) in held_out.items():
        result = held_out_predictions[subject_id, "AD"]
        original = sitk.GetArrayFromImage(t1)
        on_disk = read_image(subject.t1)
        zero = result.at(0.0)
        assert zero.image.GetSize() == t1.GetSize() and zero.image.GetOrigin() == t1.GetOrigin()
        assert np.abs(sitk.GetArrayFromImage(zero.image) - original).max() <= 1e-6 * np.ptp(original)
        assert not sitk.GetArrayFromImage(zero.tissue_loss).any()
        assert all(abs(row.change_ml) < 1e-9 for row in result.volumes.rows if row.years == 0.0)
        # the input image (shared by every run) was not modified by any of them
        assert np.array_equal(original, sitk.GetArrayFromImage(on_disk))
        assert (t1.GetSpacing(), t1.GetOrigin(), t1.GetDirection()) == (on_disk.GetSpacing(), on_disk.GetOrigin(),
                                                                        on_disk.GetDirection())


def test_change_grows_monotonically_with_the_interval(held_out, held_out_predictions):
    for subject_id in held_out:
        result = held_out_predictions[subject_id, "AD"]
        hippocampus = [result.volumes.get("hippocampus", y).predicted_ml for y in SERIES_YEARS]
        ventricles = [result.volumes.get("ventricles", y).predicted_ml for y in SERIES_YEARS]
        brain = [result.volumes.get("whole_brain", y).predicted_ml for y in SERIES_YEARS]
        assert np.all(np.diff(hippocampus) < 0) and np.all(np.diff(brain) < 0)
        assert np.all(np.diff(ventricles) > 0)
        baseline = sitk.GetArrayFromImage(result.baseline)
        differences = [np.abs(sitk.GetArrayFromImage(result.at(y).image) - baseline).mean() for y in SERIES_YEARS]
        assert np.all(np.diff(differences) > 0)
        labels = sitk.GetArrayFromImage(held_out[subject_id][2])
        hippocampal_loss = [sitk.GetArrayFromImage(result.at(y).tissue_loss)[np.isin(labels, (47, 48))].mean()
                            for y in SERIES_YEARS]
        assert np.all(np.diff(hippocampal_loss) > 0)


@pytest.mark.parametrize("region, sign", [("hippocampus", -1), ("ventricles", 1)])
def test_change_is_ordered_ad_mci_cn_on_held_out_subjects(held_out, held_out_predictions, region, sign):
    for subject_id in held_out:
        rates = [held_out_predictions[subject_id, d].volumes.get(region, EVALUATION_YEARS).percent_per_year
                 for d in ("CN", "MCI", "AD")]
        assert sign * rates[0] < sign * rates[1] < sign * rates[2], (subject_id, region, rates)
        assert held_out_predictions[subject_id, "AD"].measured_on == "labels"


@pytest.mark.parametrize("region", ["hippocampus", "ventricles", "whole_brain"])
def test_regional_change_lies_in_the_literature_range(held_out, held_out_predictions, region):
    for subject_id in held_out:
        for diagnosis in ("CN", "MCI", "AD"):
            rate = held_out_predictions[subject_id, diagnosis].volumes.get(region, EVALUATION_YEARS).percent_per_year
            low, high = literature_range(region, diagnosis, EVALUATION_AGE)
            assert low <= rate <= high, (subject_id, diagnosis, region, rate, (low, high))


def test_prediction_is_closer_to_the_simulated_follow_up_than_no_change(held_out, held_out_predictions):
    from medsynth.training.future.evaluate import similarity
    from medsynth.training.future.simulate import ProgressionSimulator

    subject, t1, labels = held_out["IXI048-HH-1326"]
    simulator = ProgressionSimulator(t1, labels)
    baseline = sitk.GetArrayFromImage(t1).astype(np.float32)
    brain = sitk.GetArrayFromImage(labels) > 0
    scale = float(np.percentile(baseline[brain], 99.5))
    for diagnosis in ("MCI", "AD"):
        truth = sitk.GetArrayFromImage(simulator.follow_up(diagnosis, EVALUATION_AGE, EVALUATION_YEARS).image)
        predicted = sitk.GetArrayFromImage(held_out_predictions[subject.id, diagnosis].at(EVALUATION_YEARS).image)
        ssim_model, mae_model = similarity(truth, predicted, brain, scale)
        ssim_copy, mae_copy = similarity(truth, baseline, brain, scale)
        assert ssim_model > ssim_copy and mae_model < mae_copy, (diagnosis, ssim_model, ssim_copy, mae_model, mae_copy)
    # the comparison is not won by deforming at all: a random smooth warp of sub-voxel size loses to the copy
    rng = np.random.default_rng(0)
    random_field = np.stack([ndi.gaussian_filter(rng.normal(size=baseline.shape), 3) for _ in range(3)])
    random_field *= 0.3 / random_field.std()
    warped = sitk.GetArrayFromImage(warp(sitk.Cast(t1, sitk.sitkFloat32), displacement_transform(random_field, t1)))
    assert similarity(truth, warped, brain, scale)[1] > mae_copy


def test_change_map_marks_the_hippocampus_more_than_white_matter(held_out, held_out_predictions):
    subject, _, labels = held_out["IXI014-HH-1236"]
    loss = sitk.GetArrayFromImage(held_out_predictions[subject.id, "AD"].at(EVALUATION_YEARS).tissue_loss)
    grouped = sitk.GetArrayFromImage(labels)
    assert loss[np.isin(grouped, (47, 48))].mean() > 2 * loss[(grouped >= 81) & (grouped <= 95)].mean() > 0

"""Bad inputs are refused with a message that says what to do, before any output exists; inputs
are never modified; the command line writes every requested output atomically."""

import csv
import hashlib

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.cli import main
from medsynth.domain import OutsideDomainError
from medsynth.errors import InputError
from medsynth.io import read_image
from medsynth.tasks.future import predict_future
from real_images import coarse_muse_labels


@pytest.fixture(scope="module")
def t1(test_data):
    """One person's whole-head clinical T1 (2 mm), never used in training: inside the model's domain."""
    return read_image(test_data / "head_mr_skull_2mm.nii.gz")


@pytest.fixture(scope="module")
def coarse_labels(t1):
    return coarse_muse_labels(t1)


@pytest.mark.parametrize("conditions, message", [
    (dict(age=30.0, sex="F", diagnosis="MCI", years=3.0), r"age = 30.0 is outside the range .*50–90 years"),
    (dict(age=72.0, sex="F", diagnosis="MCI", years=12.0), r"years = 12.0 is outside the range .*0–10 years"),
    (dict(age=72.0, sex="F", diagnosis="MCI", years=-1.0), r"years = -1.0 is outside"),
    (dict(age=72.0, sex="X", diagnosis="MCI", years=3.0), r"'X' is not a valid sex; choose one of \['F', 'M'\]"),
    (dict(age=72.0, sex="F", diagnosis="FTD", years=3.0), r"'FTD' is not a valid diagnosis; choose one of \['CN', 'MCI', 'AD'\]"),
    (dict(age=float("nan"), sex="F", diagnosis="CN", years=3.0), r"age = nan is outside"),
])
def test_out_of_range_conditions_are_refused(t1, future_model, conditions, message):
    before = sitk.GetArrayFromImage(t1).copy()
    with pytest.raises(InputError, match=message):
        predict_future(t1, model=future_model, **conditions)
    assert np.array_equal(sitk.GetArrayFromImage(t1), before)


def test_wrong_kinds_of_image_are_refused(test_data, future_model, t1):
    ct = read_image(test_data / "scct_hu.nii.gz")
    with pytest.raises(InputError, match="looks like a CT"):
        predict_future(ct, 72.0, "F", "CN", 2.0, model=future_model)
    with pytest.raises(InputError, match="2D"):
        predict_future(t1[:, :, 36], 72.0, "F", "CN", 2.0, model=future_model)
    aseg = sitk.Cast(sitk.GetImageFromArray(np.full(sitk.GetArrayViewFromImage(t1).shape, 17, np.uint8)), sitk.sitkUInt8)
    aseg.CopyInformation(t1)
    with pytest.raises(InputError, match="not MUSE/DLMUSE labels"):
        predict_future(t1, 72.0, "F", "CN", 2.0, labels=aseg, model=future_model)


@pytest.mark.parametrize("source, path", [("test_data", "stroke_2mm/T2.nii.gz"),
                                          ("shared_data", "templates/avg152PD.nii.gz")])  # no licence-free PD scan
def test_t2_and_pd_contrast_is_refused(request, future_model, source, path):
    image = read_image(request.getfixturevalue(source) / path)
    # The domain gate (medsynth.domain) refuses them first, naming the contrast it found.
    with pytest.raises(OutsideDomainError, match=r"(T2|PD) contrast \(confidence [0-9.]+\), the model needs T1"):
        predict_future(image, 72.0, "F", "CN", 2.0, model=future_model)


def test_flair_like_grey_white_contrast_is_refused_with_a_parcellation(coarse_labels, future_model):
    labels = coarse_labels
    values = sitk.GetArrayFromImage(labels).astype(int)
    flair_like = np.full(values.shape, 10.0, np.float32)  # outside
    flair_like[values > 0] = 100.0  # grey matter brighter than white matter, as in FLAIR
    flair_like[(values >= 81) & (values <= 95)] = 70.0
    flair_like[np.isin(values, (1, 4, 11, 46, 49, 50, 51, 52))] = 15.0  # dark fluid
    image = sitk.GetImageFromArray(flair_like + np.random.default_rng(0).normal(0, 2, values.shape).astype(np.float32))
    image.CopyInformation(labels)
    with pytest.raises(InputError, match="white matter is brighter than cortex"):  # even past the domain gate
        predict_future(image, 72.0, "M", "CN", 2.0, labels=labels, model=future_model, allow_outside=True)


@pytest.mark.parametrize("fixture, path", [("test_data", "stroke_2mm/T1.nii.gz"), ("test_data", "head_mr_skull_2mm.nii.gz"),
                                           ("mni152_t1_file", ""), ("mean_head_file", "")])
def test_t1_images_from_other_sources_pass_the_contrast_profile(request, fixture, path):
    from medsynth.tasks.future_qa import MIN_DARK_TO_BRIGHT_TAIL, dark_to_bright_tail

    source = request.getfixturevalue(fixture)
    assert dark_to_bright_tail(read_image(source / path if path else source)) > MIN_DARK_TO_BRIGHT_TAIL


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_command_line_writes_the_prediction_change_map_volumes_and_pictures(test_data, tmp_path, capsys):
    source = test_data / "head_mr_skull_2mm.nii.gz"
    before = _sha(source)
    out = tmp_path / "future.nii.gz"
    status = main(["predict-future", str(source), str(out), "--age", "72", "--sex", "M", "--diagnosis", "AD",
                   "--years", "3", "--change-map", str(tmp_path / "loss.nii.gz"), "--volumes", str(tmp_path / "v.csv"),
                   "--pictures", str(tmp_path / "pictures")])
    assert status == 0 and _sha(source) == before
    predicted, loss, original = read_image(out), read_image(tmp_path / "loss.nii.gz"), read_image(source)
    assert predicted.GetSize() == original.GetSize() == loss.GetSize()
    assert np.allclose(predicted.GetDirection(), original.GetDirection())
    rows = list(csv.DictReader(open(tmp_path / "v.csv")))
    hippocampus = next(r for r in rows if r["region"] == "hippocampus")
    assert float(hippocampus["predicted_ml"]) < float(hippocampus["baseline_ml"])
    assert hippocampus["measured_on"] == "model regions"  # no parcellation given: the model's own regions
    assert sorted(p.name for p in (tmp_path / "pictures").iterdir()) == sorted(
        f"{view}_{kind}.png" for view in ("axial", "coronal", "sagittal") for kind in ("baseline_vs_predicted", "tissue_loss"))
    assert "Hippocampus" in capsys.readouterr().out


def test_command_line_refuses_bad_input_without_writing_anything(test_data, tmp_path, capsys):
    source = test_data / "head_mr_skull_2mm.nii.gz"
    status = main(["predict-future", str(source), str(tmp_path / "out.nii.gz"), "--age", "72", "--sex", "F",
                   "--diagnosis", "dementia", "--years", "3", "--volumes", str(tmp_path / "v.csv")])
    assert status == 2
    assert "not a valid diagnosis" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []

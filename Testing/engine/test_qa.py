"""Input QA refuses unusable volumes with messages that say what is wrong."""

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.io import read_image
from medsynth.qa import check_volume, looks_like_ct


def _volume(array, spacing=(1.0, 1.0, 1.0)):
    image = sitk.GetImageFromArray(np.asarray(array, dtype=np.float32))
    image.SetSpacing(spacing)
    return image


def _ramp(shape=(8, 9, 10)):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)


def test_accepts_a_real_volume(test_data):
    check_volume(read_image(test_data / "stroke_2mm" / "T1.nii.gz"))


def test_refuses_2d_image():
    with pytest.raises(InputError, match="2D"):
        check_volume(sitk.GetImageFromArray(np.ones((10, 10), np.float32)))


def test_refuses_single_slice_volume():
    with pytest.raises(InputError, match="slice"):
        check_volume(_volume(_ramp((1, 20, 20))))


def test_refuses_real_4d_image(nibabel_example_4d):
    with pytest.raises(InputError, match="4D"):
        check_volume(read_image(nibabel_example_4d))


def test_refuses_colour_image():
    rgb = sitk.GetImageFromArray(np.ones((6, 6, 6, 3), np.uint8), isVector=True)
    with pytest.raises(InputError, match="components"):
        check_volume(rgb)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_refuses_non_finite_voxels(bad):
    array = _ramp()
    array[3, 4, 5] = bad
    with pytest.raises(InputError, match="NaN or infinite"):
        check_volume(_volume(array))


def test_refuses_constant_volume():
    with pytest.raises(InputError, match="empty"):
        check_volume(_volume(np.full((8, 8, 8), 7.0)))


def _nrrd_with_spacing(tmp_path, spacing):
    """A NRRD header written by hand, as a broken scanner export might be."""
    header = (f"NRRD0004\ntype: float\ndimension: 3\nsizes: 8 8 8\nspacings: {spacing}\n"
              "encoding: raw\nendian: little\n\n")
    path = tmp_path / "header.nrrd"
    path.write_bytes(header.encode() + np.arange(512, dtype="<f4").tobytes())
    return path


def test_refuses_zero_spacing_from_a_real_header(tmp_path):
    with pytest.raises(InputError, match="spacing"):
        read_image(_nrrd_with_spacing(tmp_path, "0 1 1"))


def test_negative_spacing_in_a_header_becomes_a_flipped_axis_not_a_silent_error(tmp_path):
    image = read_image(_nrrd_with_spacing(tmp_path, "-1 1 1"))
    check_volume(image)
    assert image.GetSpacing() == (1.0, 1.0, 1.0)
    assert image.GetDirection()[0] == -1.0
    assert image.TransformIndexToPhysicalPoint((3, 0, 0))[0] == -3.0


def test_zero_or_negative_spacing_cannot_be_set_on_an_image():
    """The other way in (building an image from arrays) is closed by SimpleITK itself."""
    image = sitk.Image(5, 5, 5, sitk.sitkFloat32)
    for spacing in [(0.0, 1.0, 1.0), (-1.0, 1.0, 1.0)]:
        with pytest.raises(RuntimeError, match="spacing"):
            image.SetSpacing(spacing)


def test_refuses_absurd_spacing():
    with pytest.raises(InputError, match="spacing"):
        check_volume(_volume(_ramp(), spacing=(1000.0, 1000.0, 1000.0)))


def test_ct_and_mr_are_told_apart(test_data, mni152_t1_file, mean_head_file):
    assert looks_like_ct(read_image(test_data / "scct_hu.nii.gz"))
    assert not looks_like_ct(read_image(test_data / "head_mr_skull_2mm.nii.gz"))
    assert not looks_like_ct(read_image(mni152_t1_file))
    assert not looks_like_ct(read_image(mean_head_file))

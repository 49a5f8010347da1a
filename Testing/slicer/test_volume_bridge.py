"""MRML volume node <-> SimpleITK: exact geometry and voxels, on synthetic oblique and real files."""

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.io import read_image


def _assert_identical(a, b):
    assert np.array_equal(sitk.GetArrayViewFromImage(a), sitk.GetArrayViewFromImage(b))
    assert sitk.GetArrayViewFromImage(a).dtype == sitk.GetArrayViewFromImage(b).dtype
    assert a.GetSpacing() == b.GetSpacing()
    assert a.GetOrigin() == b.GetOrigin()
    assert a.GetDirection() == b.GetDirection()


def test_oblique_axis_permuted_round_trip_is_exact(headless):
    from MedSynthLib.volume_bridge import image_to_node, node_to_image

    rng = np.random.default_rng(1)
    image = sitk.GetImageFromArray(rng.normal(size=(7, 9, 11)).astype(np.float32))
    angle = 0.37
    rotation = np.array([[0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)], [1, 0, 0]])
    image.SetDirection(tuple(rotation.ravel()))
    image.SetSpacing((0.71, 1.33, 2.9))
    image.SetOrigin((12.5, -40.25, 77.125))
    node = image_to_node(image, headless.scene, "oblique")
    _assert_identical(node_to_image(node), image)


def test_ras_convention_matches_slicer(headless):
    """A voxel at LPS (x, y, z) must sit at RAS (−x, −y, z) in the node."""
    from MedSynthLib.volume_bridge import image_to_node

    image = sitk.Image(4, 5, 6, sitk.sitkInt16)
    image.SetOrigin((10.0, 20.0, 30.0))
    node = image_to_node(image, headless.scene, "lps")
    matrix = __import__("vtk").vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    assert [matrix.GetElement(i, 3) for i in range(3)] == [-10.0, -20.0, 30.0]


@pytest.mark.parametrize("relative", ["stroke_2mm/T1.nii.gz", "head_mr_skull/Skull.nrrd", "dicom_mr_series_small",
                                      "head_mr_skull_2mm.nii.gz", "scct_hu.nii.gz"])
def test_real_files_round_trip_exactly(headless, test_data, relative):
    from MedSynthLib.volume_bridge import image_to_node, node_to_image

    image = read_image(test_data / relative)
    _assert_identical(node_to_image(image_to_node(image, headless.scene, "real")), image)


@pytest.mark.parametrize("relative", ["stroke_2mm/T1.nii.gz", "head_mr_skull/Skull.nrrd", "head_mr_skull_2mm.nii.gz"])
def test_slicer_reader_and_engine_reader_agree(headless, test_data, relative):
    """Slicer's own storage node and SimpleITK put the same voxels at the same places."""
    from MedSynthLib.scene_files import load_volume
    from MedSynthLib.volume_bridge import node_to_image

    from_slicer = node_to_image(load_volume(headless.scene, test_data / relative))
    from_engine = read_image(test_data / relative)
    assert np.array_equal(sitk.GetArrayViewFromImage(from_slicer), sitk.GetArrayViewFromImage(from_engine))
    assert np.allclose(from_slicer.GetSpacing(), from_engine.GetSpacing(), atol=1e-5)
    assert np.allclose(from_slicer.GetOrigin(), from_engine.GetOrigin(), atol=1e-3)
    assert np.allclose(from_slicer.GetDirection(), from_engine.GetDirection(), atol=1e-5)


def test_node_without_image_data_is_a_clear_error(headless):
    from MedSynthLib.volume_bridge import node_to_image

    node = headless.scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "empty")
    with pytest.raises(ValueError, match="no image data"):
        node_to_image(node)

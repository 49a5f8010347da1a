"""Synthetic outputs in a real MRML scene: naming, provenance, Subject Hierarchy, .mrb, overlay pixels."""

import numpy as np
import SimpleITK as sitk
import vtk
from vtk.util import numpy_support

from medsynth.io import read_image
from medsynth.provenance import Provenance

PROVENANCE = Provenance(model_id="demo-edges", model_version="1.0.0", model_sha256="ab" * 32, task="demo",
                        parameters={"overlap": 0.25, "note": "ünïcode & <xml>"})


def _input_in_study(headless, test_data):
    import slicer
    from MedSynthLib.scene_files import load_volume

    node = load_volume(headless.scene, test_data / "head_mr_skull_2mm.nii.gz", "Patient MR")
    hierarchy = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(headless.scene)
    patient = hierarchy.CreateSubjectItem(hierarchy.GetSceneItemID(), "Patient 1")
    study = hierarchy.CreateStudyItem(patient, "Study 2026")
    hierarchy.CreateItem(study, node)  # what Slicer's DICOM/Data modules do when a study is loaded
    return node, hierarchy, study


def test_output_is_marked_synthetic_and_filed_under_the_input_study(headless, test_data):
    from MedSynthLib.outputs import add_output_volume, provenance_attributes
    from MedSynthLib.volume_bridge import node_to_image

    node, hierarchy, study = _input_in_study(headless, test_data)
    before = sitk.GetArrayFromImage(node_to_image(node)).copy()
    output = add_output_volume(node_to_image(node) * 2, node, "sCT", PROVENANCE)
    assert output.GetName() == "Patient MR sCT (synthetic)"
    assert hierarchy.GetItemParent(hierarchy.GetItemByDataNode(output)) == study
    attributes = provenance_attributes(output)
    assert attributes["MedSynth.Synthetic"] == "YES"
    assert attributes["MedSynth.ModelSHA256"] == "ab" * 32
    assert attributes["MedSynth.InputNodeID"] == node.GetID()
    assert np.array_equal(sitk.GetArrayFromImage(node_to_image(node)), before)  # input untouched


def test_output_cannot_overwrite_the_input(headless, test_data):
    import pytest

    from MedSynthLib.outputs import add_output_volume
    from MedSynthLib.volume_bridge import node_to_image

    node, _, _ = _input_in_study(headless, test_data)
    with pytest.raises(ValueError, match="must not overwrite the input"):
        add_output_volume(node_to_image(node), node, "x", PROVENANCE, output_node=node)


def test_provenance_and_overlay_survive_mrb_save_and_reload(headless, test_data, tmp_path):
    from MedSynthLib.headless import start_headless_slicer
    from MedSynthLib.outputs import add_output_volume, provenance_attributes
    from MedSynthLib.overlays import show_overlay, style_heat_map
    from MedSynthLib.scene_files import load_bundle, save_bundle
    from MedSynthLib.volume_bridge import node_to_image

    node, _, _ = _input_in_study(headless, test_data)
    headless.slice_logic("Red")
    heat = add_output_volume(node_to_image(node), node, "heat", PROVENANCE)
    style_heat_map(heat, (0.0, 500.0), threshold=100.0)
    show_overlay(node, heat, opacity=0.7)
    saved = provenance_attributes(heat)
    bundle = save_bundle(headless.scene, tmp_path / "scene.mrb")

    fresh = start_headless_slicer()
    load_bundle(fresh.scene, bundle)
    reloaded = fresh.scene.GetFirstNodeByName("Patient MR heat (synthetic)")
    assert reloaded is not None
    assert provenance_attributes(reloaded) == saved
    assert '"note": "ünïcode & <xml>"' in reloaded.GetAttribute("MedSynth.Parameters")
    display = reloaded.GetDisplayNode()
    assert display.GetApplyThreshold() and display.GetLowerThreshold() == 100.0
    assert display.GetColorNode().GetName() == "MedSynthHeat"
    composite = fresh.scene.GetNodesByClass("vtkMRMLSliceCompositeNode").GetItemAsObject(0)
    assert composite.GetForegroundVolumeID() == reloaded.GetID()
    assert composite.GetForegroundOpacity() == 0.7
    assert np.array_equal(sitk.GetArrayViewFromImage(node_to_image(reloaded)),
                          sitk.GetArrayViewFromImage(node_to_image(heat)))


def _render(headless, view="Red"):
    logic = headless.slice_logic(view)
    logic.GetSliceNode().SetDimensions(200, 200, 1)
    logic.FitSliceToAll()
    producer = logic.GetImageDataConnection().GetProducer()
    producer.Update()
    image = producer.GetOutputDataObject(0)
    width, height, _ = image.GetDimensions()
    pixels = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars()).reshape(height, width, -1)
    return image, pixels


def test_overlay_renders_heat_colours_where_the_map_is_high(headless, test_data, tmp_path):
    """A map that is high in the left half only: heat colours there, grey elsewhere; PNG written."""
    from MedSynthLib.outputs import add_output_volume
    from MedSynthLib.overlays import show_overlay, style_heat_map
    from MedSynthLib.volume_bridge import node_to_image

    node, _, _ = _input_in_study(headless, test_data)
    background = node_to_image(node)
    values = np.zeros(sitk.GetArrayViewFromImage(background).shape, np.float32)
    values[:, :, : values.shape[2] // 2] = 0.7  # yellow in the heat table (its top end is white)
    heat_image = sitk.GetImageFromArray(values)
    heat_image.CopyInformation(background)
    heat = add_output_volume(heat_image, node, "map", PROVENANCE)
    style_heat_map(heat, (0.0, 1.0), threshold=0.5)
    headless.slice_logic("Red")  # the view exists before the overlay is wired, as in the application
    show_overlay(node, heat, opacity=1.0)
    image, pixels = _render(headless)
    writer = vtk.vtkPNGWriter()
    writer.SetFileName(str(tmp_path / "overlay.png"))
    writer.SetInputData(image)
    writer.Write()
    assert (tmp_path / "overlay.png").stat().st_size > 1000
    rgb = pixels[..., :3].astype(int)
    coloured = (rgb[..., 0] - rgb[..., 2]) > 60  # heat table top end: strongly red/yellow, little blue
    greyish = np.abs(rgb[..., 0] - rgb[..., 2]) < 10
    half = rgb.shape[1] // 2
    left, right = coloured[:, :half].mean(), coloured[:, half:].mean()
    assert max(left, right) > 0.3, "heat colours missing where the map is high"
    assert min(left, right) < 0.02, "heat colours where the map is below threshold"
    assert greyish[:, :half].mean() + greyish[:, half:].mean() > 0.3

"""The MedSynthAnomaly logic on a real MRML scene (slicer-core): overlay, findings table and
segmentation, re-thresholding, jump-to-finding, the panel's presenter, and .mrb persistence."""

import numpy as np
import pytest
import SimpleITK as sitk


def _load_stroke(headless, stroke_t1):
    from MedSynthLib.scene_files import load_volume

    return load_volume(headless.scene, stroke_t1, "stroke T1")


def test_run_anomaly_adds_overlay_table_segmentation_and_verdict(headless, stroke_t1):
    from MedSynthAnomalyLib.anomaly_logic import AnomalyLogic
    from MedSynthLib.volume_bridge import node_to_image

    volume = _load_stroke(headless, stroke_t1)
    before = sitk.GetArrayFromImage(node_to_image(volume)).copy()
    outputs = AnomalyLogic().runAnomaly(volume)
    heat = outputs.heatMap
    assert np.array_equal(sitk.GetArrayFromImage(node_to_image(volume)), before)
    assert heat.GetAttribute("MedSynth.Synthetic") == "YES" and heat.GetAttribute("MedSynth.ModelId") == "anomaly-brain-t1"
    assert heat.GetAttribute("MedSynth.ArtefactLabel") == outputs.artefact.label
    assert heat.GetAttribute("MedSynth.ArtefactScore") == f"{outputs.artefact.score:.2f}"
    display = heat.GetDisplayNode()
    assert display.GetApplyThreshold() and display.GetLowerThreshold() == pytest.approx(outputs.result.threshold)
    composites = headless.scene.GetNodesByClass("vtkMRMLSliceCompositeNode")
    assert all(c.GetForegroundVolumeID() == heat.GetID() for c in composites)
    assert headless.scene.GetNodesByClass("vtkMRMLColorLegendDisplayNode").GetNumberOfItems() == 1
    assert outputs.findings and outputs.findingsTable.GetNumberOfRows() == len(outputs.findings)
    segmentation = outputs.findingsSegmentation.GetSegmentation()
    assert segmentation.GetNumberOfSegments() == len(outputs.findings)
    assert segmentation.GetNthSegment(0).GetName().startswith("Finding 1:")
    hierarchy = headless.scene.GetSubjectHierarchyNode()
    parent = hierarchy.GetItemParent(hierarchy.GetItemByDataNode(volume))
    for node in (heat, outputs.findingsTable, outputs.findingsSegmentation):
        assert hierarchy.GetItemParent(hierarchy.GetItemByDataNode(node)) == parent
        assert node.GetAttribute("MedSynth.InputNodeID") == volume.GetID()


def test_threshold_slider_and_jump_to_finding(headless, stroke_t1, stroke_analysis):
    from MedSynthAnomalyLib.anomaly_logic import AnomalyLogic

    volume = _load_stroke(headless, stroke_t1)
    red = headless.slice_logic("Red").GetSliceNode()
    logic = AnomalyLogic()
    outputs = logic.addResultNodes(volume, stroke_analysis[2]["model"])
    before = list(outputs.findings)
    raised = (outputs.result.threshold + before[0].peak_score) / 2
    higher = logic.applyThreshold(outputs, raised)
    assert len(higher) <= len(before)
    assert sum(f.volume_ml for f in higher) < sum(f.volume_ml for f in before)
    assert all(f.peak_score >= raised for f in higher)
    assert outputs.findingsTable.GetNumberOfRows() == len(higher)
    assert outputs.findingsSegmentation.GetSegmentation().GetNumberOfSegments() == len(higher)
    assert outputs.heatMap.GetDisplayNode().GetLowerThreshold() == pytest.approx(raised)
    assert logic.applyThreshold(outputs, 1e6) == [] and outputs.findingsTable.GetNumberOfRows() == 0
    lower = logic.applyThreshold(outputs, outputs.result.threshold)
    row = len(lower) - 1
    ras = logic.jumpToFinding(outputs, row)
    assert ras == pytest.approx(lower[row].centroid_ras_mm, abs=0.01)
    slice_to_ras = red.GetSliceToRAS()
    assert [slice_to_ras.GetElement(i, 3) for i in range(3)] == pytest.approx(list(ras), abs=0.5)
    with pytest.raises(IndexError):
        logic.jumpToFinding(outputs, len(lower))
    logic.setOpacity(outputs, 0.8)
    composite = headless.slice_logic("Red").GetSliceCompositeNode()
    assert composite.GetForegroundOpacity() == pytest.approx(0.8)


def test_findings_survive_a_scene_bundle(headless, stroke_t1, stroke_analysis, tmp_path):
    from MedSynthAnomalyLib.anomaly_logic import AnomalyLogic
    from MedSynthLib.scene_files import load_bundle, save_bundle

    volume = _load_stroke(headless, stroke_t1)
    outputs = AnomalyLogic().addResultNodes(volume, stroke_analysis[2]["model"])
    names = [outputs.findingsSegmentation.GetSegmentation().GetNthSegment(i).GetName()
             for i in range(len(outputs.findings))]
    volumes = [outputs.findingsTable.GetCellText(r, 1) for r in range(outputs.findingsTable.GetNumberOfRows())]
    bundle = save_bundle(headless.scene, tmp_path / "anomaly.mrb")
    headless.scene.Clear(0)
    load_bundle(headless.scene, bundle)
    table = headless.scene.GetFirstNodeByClass("vtkMRMLTableNode")
    segmentation = headless.scene.GetFirstNodeByClass("vtkMRMLSegmentationNode").GetSegmentation()
    heat = [n for n in headless.scene.GetNodesByClass("vtkMRMLScalarVolumeNode") if "anomaly map" in n.GetName()][0]
    assert [float(table.GetCellText(r, 1)) for r in range(table.GetNumberOfRows())] == pytest.approx(
        [float(v) for v in volumes])
    assert [segmentation.GetNthSegment(i).GetName() for i in range(segmentation.GetNumberOfSegments())] == names
    assert heat.GetAttribute("MedSynth.ArtefactLabel") == outputs.artefact.label
    assert heat.GetDisplayNode().GetApplyThreshold()


def test_panel_presenter_texts():
    from MedSynthAnomalyLib.presenter import (OK_STYLE, WARNING_STYLE, artefact_banner, findings_summary,
                                              input_problem, threshold_range)
    from medsynth.tasks.anomaly.artefacts import ArtefactVerdict

    flagged = artefact_banner(ArtefactVerdict("motion", 9.3, 5.0))
    assert "MOTION ARTEFACT" in flagged.text and flagged.style == WARNING_STYLE
    assert artefact_banner(ArtefactVerdict("none", 1.0, 5.0)).style == OK_STYLE
    assert "run the model" in artefact_banner(None).text
    assert findings_summary(1, 3.25, 0.2).startswith("1 finding at score ≥ 3.2")
    assert threshold_range(12.0, 3.0) == pytest.approx((0.0, 13.2))
    assert input_problem(True, []) .startswith("No anomaly model")
    assert input_problem(False, ["anomaly-brain-t1"]).startswith("Select") and input_problem(True, ["x"]) is None

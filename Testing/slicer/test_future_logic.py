"""MedSynthFuture logic on a real scene: Sequence indexed by years, change-map overlay, volume table,
all surviving a save/reload of the scene (.mrb); the input is never modified."""

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.errors import Cancelled, InputError

def _load_t1(headless, test_data):
    from MedSynthLib.scene_files import load_volume

    return load_volume(headless.scene, test_data / "head_mr_skull_2mm.nii.gz", "T1")


def _voxels(node):
    from MedSynthLib.volume_bridge import node_to_image

    return sitk.GetArrayFromImage(node_to_image(node))


def test_prediction_survives_a_scene_save_and_reload(headless, test_data, tmp_path):
    from MedSynthFutureLib.future_logic import CHANGE_MAP_TITLE, FutureLogic
    from MedSynthFutureLib.volume_table import table_rows
    from MedSynthLib.scene_files import load_bundle, save_bundle
    from medsynth.tasks.future_volumes import REPORTED_REGIONS

    headless.slice_logic("Red")  # a slice view, whose composite node the overlay must set
    t1 = _load_t1(headless, test_data)
    before = _voxels(t1).copy()
    nodes = FutureLogic().runPrediction(t1, 72.0, "F", "AD", 3.0, timepoints=2)
    sequence, browser, change_map, table = nodes.sequence, nodes.browser, nodes.change_map, nodes.table

    assert (sequence.GetIndexName(), sequence.GetIndexUnit()) == ("years", "year")
    assert [sequence.GetNthIndexValue(i) for i in range(sequence.GetNumberOfDataNodes())] == ["0", "1.5", "3"]
    assert np.array_equal(_voxels(sequence.GetDataNodeAtValue("0")), before)
    final = _voxels(sequence.GetDataNodeAtValue("3"))
    assert np.count_nonzero(final != before) > 1000
    assert sequence.GetDataNodeAtValue("3").GetAttribute("MedSynth.Synthetic") == "YES"
    assert sequence.GetDataNodeAtValue("0").GetAttribute("MedSynth.Synthetic") == "NO"
    assert browser.GetMasterSequenceNode() is sequence
    assert "(synthetic)" in nodes.proxy.GetName()

    assert change_map.GetAttribute("MedSynth.Synthetic") == "YES"
    display = change_map.GetDisplayNode()
    assert display.GetApplyThreshold() and display.GetLowerThreshold() > 0
    composites = list(headless.scene.GetNodesByClass("vtkMRMLSliceCompositeNode"))
    assert composites and all(c.GetForegroundVolumeID() == change_map.GetID() and
                              c.GetBackgroundVolumeID() == nodes.proxy.GetID() for c in composites)
    legends = headless.scene.GetNodesByClass("vtkMRMLColorLegendDisplayNode")
    assert legends.GetNumberOfItems() == 1 and legends.GetItemAsObject(0).GetTitleText() == CHANGE_MAP_TITLE

    rows = table_rows(table)
    assert len(rows) == 2 * len(REPORTED_REGIONS)
    hippocampus = next(r for r in rows if r["region"] == "hippocampus" and float(r["years"]) == 3.0)
    assert float(hippocampus["change_percent"]) < 0 and hippocampus["measured_on"] == "model regions"
    assert np.array_equal(_voxels(t1), before)

    saved = {"change": _voxels(change_map), "color": display.GetColorNode().GetName(),
             "window": (display.GetWindow(), display.GetLevel()), "threshold": display.GetLowerThreshold(),
             "rows": rows, "names": (sequence.GetName(), change_map.GetName(), table.GetName())}
    bundle = save_bundle(headless.scene, tmp_path / "future.mrb")
    headless.scene.Clear(0)
    assert headless.scene.GetNodesByClass("vtkMRMLSequenceNode").GetNumberOfItems() == 0
    load_bundle(headless.scene, bundle)

    sequence = headless.scene.GetFirstNodeByName(saved["names"][0])
    assert sequence is not None and sequence.GetIndexName() == "years"
    assert [sequence.GetNthIndexValue(i) for i in range(sequence.GetNumberOfDataNodes())] == ["0", "1.5", "3"]
    assert np.array_equal(_voxels(sequence.GetDataNodeAtValue("3")), final)
    assert sequence.GetAttribute("MedSynth.ModelId") == nodes.result.provenance.model_id
    browsers = headless.scene.GetNodesByClass("vtkMRMLSequenceBrowserNode")
    assert browsers.GetNumberOfItems() == 1 and browsers.GetItemAsObject(0).GetMasterSequenceNode() is sequence
    change_map = headless.scene.GetFirstNodeByName(saved["names"][1])
    display = change_map.GetDisplayNode()
    assert np.array_equal(_voxels(change_map), saved["change"])
    assert display.GetColorNode().GetName() == saved["color"]
    assert (display.GetWindow(), display.GetLevel()) == pytest.approx(saved["window"], rel=1e-4)  # MRML writes 6 digits
    assert display.GetApplyThreshold() and display.GetLowerThreshold() == pytest.approx(saved["threshold"], rel=1e-4)
    assert headless.scene.GetNodesByClass("vtkMRMLColorLegendDisplayNode").GetNumberOfItems() == 1
    reloaded = table_rows(headless.scene.GetFirstNodeByName(saved["names"][2]))
    assert len(reloaded) == len(saved["rows"])
    assert [float(r["predicted_ml"]) for r in reloaded] == pytest.approx([float(r["predicted_ml"]) for r in saved["rows"]])


def test_condition_fields_are_checked_against_the_card():
    from MedSynthFutureLib.conditions import card_ranges, condition_problem, intervals
    from MedSynthFutureLib.future_logic import FutureLogic

    logic = FutureLogic()
    card = logic.model().card
    assert intervals(6.0, 3) == [2.0, 4.0, 6.0]
    assert condition_problem(card, 72.0, "F", "MCI", 3.0, 3) is None
    assert "outside the range" in condition_problem(card, 30.0, "F", "MCI", 3.0, 3)
    assert "outside the range" in condition_problem(card, 72.0, "F", "MCI", 25.0, 1)
    assert "not a valid diagnosis" in condition_problem(card, 72.0, "F", "FTD", 3.0, 1)
    assert "more than 0 years" in condition_problem(card, 72.0, "F", "MCI", 0.0, 1)
    assert "timepoints" in condition_problem(card, 72.0, "F", "MCI", 3.0, 0)
    assert "diagnosis: CN / MCI / AD" in card_ranges(card) and "age: 50–90 years" in card_ranges(card)
    assert logic.problem(None, 72.0, "F", "MCI", 3.0, 1) == "Select the T1 volume."


def test_invalid_conditions_are_refused_before_anything_runs(headless, test_data):
    from MedSynthFutureLib.future_logic import FutureLogic

    t1 = _load_t1(headless, test_data)
    with pytest.raises(InputError, match="age"):
        FutureLogic().startPrediction(t1, 20.0, "M", "CN", 2.0)
    assert headless.scene.GetNodesByClass("vtkMRMLSequenceNode").GetNumberOfItems() == 0


def test_cancelled_prediction_adds_nothing(headless, test_data):
    from MedSynthFutureLib.future_logic import FutureLogic

    t1 = _load_t1(headless, test_data)
    job = FutureLogic().startPrediction(t1, 72.0, "M", "MCI", 4.0, timepoints=4)
    job.cancel()
    job.start()
    with pytest.raises(Cancelled):
        job.wait_for_completion(timeout=120)
    for kind in ("vtkMRMLSequenceNode", "vtkMRMLTableNode", "vtkMRMLSequenceBrowserNode"):
        assert headless.scene.GetNodesByClass(kind).GetNumberOfItems() == 0

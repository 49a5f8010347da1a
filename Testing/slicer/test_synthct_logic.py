"""MedSynthCT logic on a real scene: sCT node with window preset and provenance, uncertainty overlay,
DICOM export from the node, .mrb persistence. A small fixed-weight synth-ct model keeps the test
independent of the trained built-in model (whose quality is tested in Testing/synthct)."""

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from medsynth.models import ModelRegistry
from model_factory import install_model, pointwise_graph

SCT_CARD = {
    "id": "test-sct", "task": "synth-ct",
    "input": {"modality": "MR", "orientation": "native", "spacing_mm": "native",
              "normalization": {"scheme": "percentile", "target_range": [0, 1]}},
    "outputs": [{"name": "ct", "units": "HU", "scale": 1000.0, "offset": -1024.0, "clip": [-1024, 3000],
                 "background_value": -1024}],
}


@pytest.fixture
def logic(tmp_path):
    from MedSynthCTLib.logic import SynthCTLogic

    install_model(tmp_path / "models" / "sct", pointwise_graph(scale=1.0, offset=0.0, patch=(32, 32, 32)),
                  inference={"patch_size": [32, 32, 32], "overlap": 0.25, "batch_size": 2}, **SCT_CARD)
    return SynthCTLogic(ModelRegistry([("test", tmp_path / "models")]))


@pytest.fixture
def mr(headless, test_data):
    from MedSynthLib.scene_files import load_volume

    return load_volume(headless.scene, test_data / "head_mr_skull_2mm.nii.gz", "Head MR")


def test_run_adds_a_windowed_synthetic_ct_and_an_uncertainty_overlay(headless, logic, mr):
    from MedSynthLib.volume_bridge import node_to_image

    before = sitk.GetArrayFromImage(node_to_image(mr)).copy()
    headless.slice_logic("Red")  # a slice view, as in the application
    result = logic.run(mr, uncertainty=True, window="bone")
    assert result.sct.GetName() == "Head MR sCT (synthetic)"
    assert result.sct.GetAttribute("MedSynth.Task") == "synth-ct"
    display = result.sct.GetDisplayNode()
    assert (display.GetWindow(), display.GetLevel()) == (1000.0, 400.0)
    hu = sitk.GetArrayFromImage(node_to_image(result.sct))
    assert hu.min() >= -1024 and hu.max() <= 3000 and (hu == -1024).any()
    assert result.uncertainty is not None and result.uncertainty.GetDisplayNode().GetApplyThreshold()
    composite = headless.scene.GetNodesByClass("vtkMRMLSliceCompositeNode").GetItemAsObject(0)
    assert composite.GetForegroundVolumeID() == result.uncertainty.GetID()
    assert np.array_equal(sitk.GetArrayFromImage(node_to_image(mr)), before)


def test_dicom_export_from_the_node_is_marked_synthetic(headless, logic, mr, tmp_path):
    result = logic.run(mr)
    written = logic.exportDicom(result.sct, tmp_path / "dicom")
    assert len(written.files) == mr.GetImageData().GetDimensions()[2]
    first = pydicom.dcmread(written.files[0])
    assert first.SyntheticData == "YES" and "SYNTHETIC" in first.SeriesDescription
    assert "test-sct" in str(first.DerivationDescription)


def test_only_synthetic_volumes_are_exported(headless, logic, mr, tmp_path):
    with pytest.raises(ValueError, match="not a MedSynth synthetic CT"):
        logic.exportDicom(mr, tmp_path / "dicom")


def test_a_ct_given_as_input_is_refused(headless, logic, test_data):
    from MedSynthLib.scene_files import load_volume
    from medsynth.errors import InputError

    ct = load_volume(headless.scene, test_data / "scct_hu.nii.gz", "CT")
    with pytest.raises(InputError, match="looks like a CT"):
        logic.run(ct)

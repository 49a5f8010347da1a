"""The MedSynth hub logic on a real scene: list models, run one on a real volume, import a zip."""

import zipfile

import numpy as np
import SimpleITK as sitk


def test_run_model_on_a_real_volume_adds_a_styled_synthetic_overlay(headless, test_data):
    from MedSynthLib.hub_logic import HubLogic
    from MedSynthLib.scene_files import load_volume
    from MedSynthLib.volume_bridge import node_to_image

    volume = load_volume(headless.scene, test_data / "head_mr_skull_2mm.nii.gz", "MR")
    before = sitk.GetArrayFromImage(node_to_image(volume)).copy()
    logic = HubLogic()
    assert "demo-edges" in [entry.card.id for entry in logic.models()]
    nodes = logic.runModel(volume, "demo-edges")
    edges = nodes["edges"]
    assert edges.GetAttribute("MedSynth.Synthetic") == "YES"
    assert edges.GetAttribute("MedSynth.ModelId") == "demo-edges"
    assert "(synthetic)" in edges.GetName()
    values = sitk.GetArrayFromImage(node_to_image(edges))
    assert values.shape == before.shape and 0 <= values.min() and values.max() <= 1 and values.max() > 0.1
    assert edges.GetDisplayNode().GetApplyThreshold()
    assert np.array_equal(sitk.GetArrayFromImage(node_to_image(volume)), before)
    composite = headless.scene.GetNodesByClass("vtkMRMLSliceCompositeNode")
    assert all(c.GetForegroundVolumeID() == edges.GetID() for c in composite)
    assert headless.scene.GetNodesByClass("vtkMRMLColorLegendDisplayNode").GetNumberOfItems() == 1


def test_import_model_zip_then_find_it(headless, tmp_path, monkeypatch):
    from MedSynthLib.hub_logic import HubLogic
    from model_factory import install_model, pointwise_graph

    monkeypatch.setenv("MEDSYNTH_HOME", str(tmp_path / "home"))
    folder = install_model(tmp_path / "src", pointwise_graph(), id="from-zip")
    archive = tmp_path / "from-zip.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for name in ("card.json", "model.onnx"):
            handle.write(folder / name, name)
    logic = HubLogic()
    logic.importModel(str(archive))
    assert "from-zip" in [entry.card.id for entry in HubLogic().models()]


def test_model_panel_shows_the_card_a_clinician_needs():
    from MedSynthLib.model_catalog import card_html, model_rows
    from medsynth.models import ModelRegistry

    registry = ModelRegistry.default()
    rows = model_rows(registry.entries(), ["Model card /x/card.json is invalid:\n  - card: missing required field 'id'"])
    demo = next(row for row in rows if row.model_id == "demo-edges")
    page = card_html(demo.entry)
    for needed in ("Intended use", "Limitations", "Training data", "Licence", demo.entry.card.intended_use):
        assert needed in page
    assert rows[-1].entry is None and rows[-1].label.startswith("⚠ skipped: Model card /x/card.json")
    assert "&lt;b&gt;" in card_html(_entry_with_name(demo.entry, "<b>bold</b>"))


def _entry_with_name(entry, name):
    import dataclasses

    return dataclasses.replace(entry, card=dataclasses.replace(entry.card, name=name))

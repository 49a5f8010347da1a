"""MedSynth hub: the models installed (with their cards), importing models, the run-time check.

The work lives in ``MedSynthLib`` (Qt-free, tested headless); this file only wires Slicer's
module, widget and test classes to it.
"""

import qt
import slicer
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.util import VTKObservationMixin

from MedSynthLib.dependencies import ensure_runtime
from MedSynthLib.hub_logic import HubLogic
from MedSynthLib.job_runner import JobRunner
from MedSynthLib.model_catalog import card_html, model_rows
from MedSynthLib.scene_close import SceneCloseMixin


class MedSynth(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "MedSynth"
        self.parent.categories = ["MedSynth"]
        self.parent.dependencies = []
        self.parent.contributors = ["MedSynth developers"]
        self.parent.helpText = ("Generative models for the reading room. This panel lists the installed models with "
                                "their cards (intended use, limitations, training data), imports new models, and runs "
                                "any model on a volume. Task modules: MedSynthCT, MedSynthFuture, MedSynthAnomaly, "
                                "MedSynthReader.")
        self.parent.acknowledgementText = "Models run with onnxruntime; images are handled with SimpleITK."


@parameterNodeWrapper
class MedSynthParameterNode:
    inputVolume: slicer.vtkMRMLScalarVolumeNode
    modelId: str = "demo-edges"


class MedSynthWidget(SceneCloseMixin, ScriptedLoadableModuleWidget, VTKObservationMixin):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        VTKObservationMixin.__init__(self)
        panel = slicer.util.loadUI(self.resourcePath("UI/MedSynth.ui"))
        self.layout.addWidget(panel)
        self.ui = slicer.util.childWidgetVariables(panel)
        self.ui.inputSelector.setMRMLScene(slicer.mrmlScene)
        self.logic = MedSynthLogic()
        self.runner = JobRunner(self.ui.applyButton, self.ui.progressBar, self.ui.statusLabel)
        self.ui.modelList.connect("currentRowChanged(int)", self.onModelSelected)
        self.ui.importButton.connect("clicked(bool)", self.onImport)
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.inputSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onInputChanged)
        self.observeSceneClose()
        self.refreshModels()
        self.onInputChanged()

    def refreshModels(self):
        self.rows = model_rows(self.logic.models(), self.logic.registry.problems)
        self.ui.modelList.clear()
        for row in self.rows:
            self.ui.modelList.addItem(row.label)
        if self.rows:
            self.ui.modelList.setCurrentRow(0)

    def onModelSelected(self, row):
        if 0 <= row < len(self.rows):
            self._parameterNode.modelId = self.rows[row].model_id
            self.ui.cardBrowser.setHtml(card_html(self.rows[row].entry))

    def onInputChanged(self, _node=None):
        self.runner.state.validate(None if self.ui.inputSelector.currentNode() else "Select an input volume.")
        self.runner.refresh()

    def onImport(self):
        path = qt.QFileDialog.getOpenFileName(slicer.util.mainWindow(), "Import MedSynth model", "", "Model (*.zip)")
        if path:
            with slicer.util.tryWithErrorDisplay("Could not import the model.", waitCursor=True):
                self.logic.importModel(path)
                self.refreshModels()

    def onApply(self):
        if self.runner.state.busy:
            self.runner.cancel()
            return
        if not ensure_runtime(lambda message: slicer.util.confirmOkCancelDisplay(message, windowTitle="MedSynth")):
            return
        with slicer.util.tryWithErrorDisplay("Could not start the model.", waitCursor=True):
            self.runner.start(self.logic.startModel(self.ui.inputSelector.currentNode(), self._parameterNode.modelId))


class MedSynthLogic(ScriptedLoadableModuleLogic, HubLogic):
    """Console use: ``slicer.util.getModuleLogic("MedSynth").runModel(volumeNode, "demo-edges")``."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        HubLogic.__init__(self)

    def getParameterNode(self):
        return MedSynthParameterNode(super().getParameterNode())


class MedSynthTest(ScriptedLoadableModuleTest):
    """Runs inside Slicer (the extension build's generic tests run it): a real model on sample data."""

    def runTest(self):
        slicer.mrmlScene.Clear()
        self.test_demo_model_on_sample_volume()

    def test_demo_model_on_sample_volume(self):
        import SampleData

        volume = SampleData.downloadSample("MRHead")
        nodes = MedSynthLogic().runModel(volume, "demo-edges")
        edges = nodes["edges"]
        self.assertEqual(edges.GetAttribute("MedSynth.Synthetic"), "YES")
        self.assertEqual(edges.GetAttribute("MedSynth.ModelId"), "demo-edges")
        self.assertEqual(edges.GetImageData().GetDimensions(), volume.GetImageData().GetDimensions())
        self.assertGreater(edges.GetImageData().GetScalarRange()[1], 0.0)
        self.delayDisplay("MedSynth demo model test passed")

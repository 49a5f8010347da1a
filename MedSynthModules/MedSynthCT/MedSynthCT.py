"""MedSynthCT: synthetic CT from a head MRI, with uncertainty overlay and DICOM export.

The work is in ``MedSynthCTLib.logic.SynthCTLogic`` (Qt-free, tested headless); this file wires
Slicer's module, widget and self-test to it.
"""

import qt
import slicer
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.util import VTKObservationMixin

from MedSynthLib.dependencies import ensure_runtime
from MedSynthLib.domain_view import show_domain_report
from MedSynthLib.display import CT_WINDOWS
from MedSynthLib.job_runner import JobRunner
from MedSynthLib.model_catalog import card_html
from MedSynthCTLib.logic import SynthCTLogic


class MedSynthCT(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Synthetic CT"
        self.parent.categories = ["MedSynth"]
        self.parent.dependencies = ["MedSynth"]
        self.parent.contributors = ["MedSynth developers"]
        self.parent.helpText = ("Computes a synthetic CT (Hounsfield units) from a head MRI with an ONNX model, "
                                "optionally with a voxel-wise uncertainty map, and exports it as a DICOM CT series "
                                "marked Synthetic Data = YES. Read the model card before use: research and "
                                "demonstration models are not for treatment planning.")
        self.parent.acknowledgementText = "Evaluation follows the SynthRAD2023/2025 challenge metrics."


@parameterNodeWrapper
class MedSynthCTParameterNode:
    inputVolume: slicer.vtkMRMLScalarVolumeNode
    maskVolume: slicer.vtkMRMLScalarVolumeNode
    uncertainty: bool = False
    window: str = "brain"


class MedSynthCTWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        VTKObservationMixin.__init__(self)
        panel = slicer.util.loadUI(self.resourcePath("UI/MedSynthCT.ui"))
        self.layout.addWidget(panel)
        self.ui = slicer.util.childWidgetVariables(panel)
        panel.setMRMLScene(slicer.mrmlScene)
        self.logic = MedSynthCTLogic()
        self.runner = JobRunner(self.ui.applyButton, self.ui.progressBar, self.ui.statusLabel)
        self.lastResult = None
        self.entries = self.logic.models()
        for entry in self.entries:
            self.ui.modelSelector.addItem(f"{entry.card.name} ({entry.card.id} {entry.card.version})", entry.card.id)
        for name in CT_WINDOWS:
            self.ui.windowSelector.addItem(name)
        self.ui.modelSelector.connect("currentIndexChanged(int)", self.onModelChanged)
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.exportButton.connect("clicked(bool)", self.onExport)
        self.ui.inputSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.updateState)
        self.ui.inputSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.updateDomain)
        self._parameterNode = self.logic.getParameterNode()
        self._parameterNode.connectGui(self.ui)
        self.onModelChanged(0)
        self.updateState()

    def onModelChanged(self, index):
        self.ui.cardBrowser.setHtml(card_html(self.entries[index]) if 0 <= index < len(self.entries) else
                                    "<p>No synthetic-CT model is installed. Import one in the MedSynth module.</p>")
        self.updateDomain()

    def updateDomain(self, _node=None):
        node, model = self.ui.inputSelector.currentNode(), self.ui.modelSelector.currentData
        show_domain_report(self.ui.domainLabel, (lambda: self.logic.domainReport(node, model)) if node and self.entries
                           else None)

    def updateState(self, _node=None):
        reason = None
        if not self.entries:
            reason = "No synthetic-CT model is installed."
        elif self.ui.inputSelector.currentNode() is None:
            reason = "Select the MR volume."
        self.runner.state.validate(reason)
        self.runner.refresh()
        self.ui.exportButton.enabled = self.lastResult is not None

    def onApply(self):
        if self.runner.state.busy:
            self.runner.cancel()
            return
        if not ensure_runtime(lambda message: slicer.util.confirmOkCancelDisplay(message, windowTitle="MedSynth")):
            return
        p = self._parameterNode
        with slicer.util.tryWithErrorDisplay("Could not start the synthetic CT.", waitCursor=True):
            job = self.logic.start(p.inputVolume, self.ui.modelSelector.currentData, p.maskVolume, p.uncertainty, p.window,
                                   allowOutsideDomain=self.ui.outsideDomainCheckBox.checked)
            self.runner.start(job, self.onFinished)

    def onFinished(self, result):
        self.lastResult = result
        slicer.util.setSliceViewerLayers(background=result.sct, foreground=result.uncertainty, fit=True)
        self.updateState()

    def onExport(self):
        folder = qt.QFileDialog.getExistingDirectory(slicer.util.mainWindow(), "Export synthetic CT as DICOM into")
        if not folder:
            return
        reference = self.ui.referenceSeriesPath.currentPath or None
        with slicer.util.tryWithErrorDisplay("DICOM export failed.", waitCursor=True):
            written = self.logic.exportDicom(self.lastResult.sct, folder, referenceSeries=reference)
            self.ui.statusLabel.text = f"Exported {len(written.files)} DICOM files (Synthetic Data = YES) to {folder}"


class MedSynthCTLogic(ScriptedLoadableModuleLogic, SynthCTLogic):
    """Console: ``slicer.util.getModuleLogic("MedSynthCT").run(mrNode, uncertainty=True)``."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        SynthCTLogic.__init__(self)

    def getParameterNode(self):
        return MedSynthCTParameterNode(super().getParameterNode())


class MedSynthCTTest(ScriptedLoadableModuleTest):
    """Runs inside Slicer: synthetic CT of the MRHead sample, then a DICOM export round trip."""

    def runTest(self):
        slicer.mrmlScene.Clear()
        self.test_synthetic_ct_of_sample_head()

    def test_synthetic_ct_of_sample_head(self):
        import tempfile

        import SampleData

        mr = SampleData.downloadSample("MRHead")
        logic = MedSynthCTLogic()
        result = logic.run(mr, uncertainty=True)
        self.assertEqual(result.sct.GetAttribute("MedSynth.Synthetic"), "YES")
        low, high = result.sct.GetImageData().GetScalarRange()
        self.assertGreaterEqual(low, -1024.0)
        self.assertGreater(high, 300.0)  # some bone
        self.assertIsNotNone(result.uncertainty)
        with tempfile.TemporaryDirectory() as folder:
            written = logic.exportDicom(result.sct, folder + "/sct", overwrite=True)
            self.assertEqual(len(written.files), mr.GetImageData().GetDimensions()[2])
        self.delayDisplay("MedSynthCT test passed")

"""MedSynth Anomaly: what in a brain T1 does not look like a healthy brain, and is the scan usable?

The work lives in ``MedSynthAnomalyLib`` (Qt-free, tested headless) and the shared ``MedSynthLib``
of the MedSynth module; this file only wires Slicer's module, widget and test classes to them.
"""

import qt
import slicer
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.util import VTKObservationMixin

from MedSynthAnomalyLib.anomaly_logic import AnomalyLogic
from MedSynthAnomalyLib.presenter import artefact_banner, findings_summary, input_problem, threshold_range
from MedSynthLib.dependencies import ensure_runtime
from MedSynthLib.domain_view import show_domain_report
from MedSynthLib.job_runner import JobRunner
from MedSynthLib.model_catalog import card_html, model_rows


class MedSynthAnomaly(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "MedSynth Anomaly"
        self.parent.categories = ["MedSynth"]
        self.parent.dependencies = ["MedSynth"]
        self.parent.contributors = ["MedSynth developers"]
        self.parent.helpText = (
            "A second pair of eyes for brain T1 MRI: a model of healthy brains reconstructs the healthy version of "
            "the scan; where the scan differs from it more than healthy brains do, a heat map lights up. Findings "
            "(connected regions above the threshold) are listed with their volume and position; click one to go "
            "there. The artefact check flags scans spoiled by motion, ghosting or spikes. Research use only.")
        self.parent.acknowledgementText = "Trained on IXI healthy subjects (CC BY-SA 3.0); runs with onnxruntime."


@parameterNodeWrapper
class MedSynthAnomalyParameterNode:
    inputVolume: slicer.vtkMRMLScalarVolumeNode
    brainMask: slicer.vtkMRMLScalarVolumeNode
    modelId: str = "anomaly-brain-t1"
    useBaseline: bool = False
    threshold: float = 3.0
    opacity: float = 0.5


class MedSynthAnomalyWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        VTKObservationMixin.__init__(self)
        panel = slicer.util.loadUI(self.resourcePath("UI/MedSynthAnomaly.ui"))
        self.layout.addWidget(panel)
        self.ui = slicer.util.childWidgetVariables(panel)
        panel.setMRMLScene(slicer.mrmlScene)
        self.logic = MedSynthAnomalyLogic()
        self.outputs = None
        self.runner = JobRunner(self.ui.applyButton, self.ui.progressBar, self.ui.statusLabel)
        self._parameterNode = self.logic.getParameterNode()
        self._parameterNode.connectGui(self.ui)
        self.ui.modelSelector.connect("currentIndexChanged(int)", self.onModelSelected)
        self.ui.inputSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onInputChanged)
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.thresholdSlider.connect("valueChanged(double)", self.onThresholdChanged)
        self.ui.opacitySlider.connect("valueChanged(double)", self.onOpacityChanged)
        self.ui.findingsTableView.connect("clicked(QModelIndex)", self.onFindingClicked)
        self.ui.outputsCollapsibleButton.enabled = False
        self.refreshModels()
        self.onInputChanged()

    def refreshModels(self):
        self.rows = [row for row in model_rows(self.logic.models()) if row.entry is not None]
        self.ui.modelSelector.clear()
        for row in self.rows:
            self.ui.modelSelector.addItem(row.label)
        if self.rows:
            ids = [row.model_id for row in self.rows]
            self.ui.modelSelector.setCurrentIndex(ids.index(self._parameterNode.modelId)
                                                  if self._parameterNode.modelId in ids else 0)

    def onModelSelected(self, index):
        if 0 <= index < len(self.rows):
            self._parameterNode.modelId = self.rows[index].model_id
            self.ui.cardBrowser.setHtml(card_html(self.rows[index].entry))
            self.updateDomain()

    def updateDomain(self):
        node, model = self.ui.inputSelector.currentNode(), self._parameterNode.modelId
        show_domain_report(self.ui.domainLabel, (lambda: self.logic.domainReport(node, model)) if node and self.rows
                           else None)

    def onInputChanged(self, _node=None):
        problem = input_problem(self.ui.inputSelector.currentNode() is not None, [r.model_id for r in self.rows])
        self.runner.state.validate(problem)
        self.runner.refresh()
        self.updateDomain()

    def onApply(self):
        if self.runner.state.busy:
            self.runner.cancel()
            return
        if not ensure_runtime(lambda message: slicer.util.confirmOkCancelDisplay(message, windowTitle="MedSynth")):
            return
        method = "baseline" if self._parameterNode.useBaseline else "model"
        with slicer.util.tryWithErrorDisplay("Could not start the anomaly model.", waitCursor=True):
            job = self.logic.startAnomaly(self._parameterNode.inputVolume, self._parameterNode.modelId, method,
                                          brainMaskNode=self._parameterNode.brainMask,
                                          opacity=self._parameterNode.opacity,
                                          allowOutsideDomain=self.ui.outsideDomainCheckBox.checked)
            self.runner.start(job, on_finished=self.onFinished)

    def onFinished(self, outputs):
        self.outputs = outputs
        peak = outputs.heatMap.GetImageData().GetScalarRange()[1]
        low, high = threshold_range(peak, outputs.result.threshold)
        self.ui.thresholdSlider.blockSignals(True)
        self.ui.thresholdSlider.minimum, self.ui.thresholdSlider.maximum = low, high
        self.ui.thresholdSlider.value = outputs.result.threshold
        self.ui.thresholdSlider.blockSignals(False)
        self._parameterNode.threshold = outputs.result.threshold
        self.ui.findingsTableView.setMRMLTableNode(outputs.findingsTable)
        self.ui.outputsCollapsibleButton.enabled = True
        self.showVerdict()
        self.showSummary()

    def showVerdict(self):
        banner = artefact_banner(self.outputs.artefact if self.outputs else None)
        self.ui.artefactLabel.text = banner.text
        self.ui.artefactLabel.setStyleSheet(banner.style)

    def showSummary(self):
        result = self.outputs.result
        self.runner.state.message = findings_summary(len(self.outputs.findings), self._parameterNode.threshold,
                                                     result.settings.min_finding_ml)
        self.runner.refresh()

    def onThresholdChanged(self, value):
        if self.outputs is not None and not self.runner.state.busy:
            with slicer.util.tryWithErrorDisplay("Could not update the findings.", waitCursor=True):
                self.logic.applyThreshold(self.outputs, value)
                self.showSummary()

    def onOpacityChanged(self, value):
        if self.outputs is not None:
            self.logic.setOpacity(self.outputs, value)

    def onFindingClicked(self, index):
        if self.outputs is not None and index.isValid():
            self.logic.jumpToFinding(self.outputs, index.row())

    def cleanup(self):
        self.removeObservers()


class MedSynthAnomalyLogic(ScriptedLoadableModuleLogic, AnomalyLogic):
    """Console use: ``slicer.util.getModuleLogic("MedSynthAnomaly").runAnomaly(volumeNode)``."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        AnomalyLogic.__init__(self)

    def getParameterNode(self):
        return MedSynthAnomalyParameterNode(super().getParameterNode())


class MedSynthAnomalyTest(ScriptedLoadableModuleTest):
    """Runs inside Slicer: the built-in model on a sample head, then with a dark blob implanted."""

    def runTest(self):
        slicer.mrmlScene.Clear()
        self.test_anomaly_on_sample_head()

    def test_anomaly_on_sample_head(self):
        import numpy as np
        import SampleData

        volume = SampleData.downloadSample("MRHead")
        logic = MedSynthAnomalyLogic()
        healthy = logic.runAnomaly(volume)
        self.assertEqual(healthy.heatMap.GetAttribute("MedSynth.Synthetic"), "YES")
        self.assertIn(healthy.artefact.label, ("none", "motion", "ghosting", "spike"))
        voxels = slicer.util.arrayFromVolume(volume).astype(np.float32)
        brain = voxels > np.percentile(voxels, 80)
        centre = np.argwhere(brain).mean(axis=0).astype(int)
        lesion = np.zeros_like(brain)
        lesion[tuple(slice(c - 6, c + 6) for c in centre)] = True
        voxels[lesion & brain] *= 0.4
        sick = slicer.util.addVolumeFromArray(voxels, name="MRHead with lesion")
        sick.CopyOrientation(volume)
        outputs = logic.runAnomaly(sick)
        self.assertGreater(len(outputs.findings), 0)
        ras = logic.jumpToFinding(outputs, 0)
        self.assertEqual(len(ras), 3)
        self.delayDisplay("MedSynthAnomaly test passed")

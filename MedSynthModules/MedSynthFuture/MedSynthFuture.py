"""MedSynthFuture: a patient's brain T1 predicted years ahead, with a change map and regional volumes.

The work is in ``MedSynthFutureLib`` (Qt-free, tested headless) and the engine's
``medsynth.tasks.future``; this file wires Slicer's module, widget and self-test to it.
"""

import slicer
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.util import VTKObservationMixin

from MedSynthFutureLib.conditions import card_ranges
from MedSynthFutureLib.future_logic import FutureLogic
from MedSynthLib.dependencies import ensure_runtime
from MedSynthLib.domain_view import show_domain_report
from MedSynthLib.job_runner import JobRunner
from MedSynthLib.model_catalog import card_html


class MedSynthFuture(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Future MRI"
        self.parent.categories = ["MedSynth"]
        self.parent.dependencies = ["MedSynth"]
        self.parent.contributors = ["MedSynth developers"]
        self.parent.helpText = (
            "Predicts a brain T1 MRI years ahead for a given age, sex, diagnosis (CN, MCI, AD) and interval. "
            "Outputs: a sequence indexed by years (baseline and predicted timepoints; scrub with the sequence "
            "browser), the tissue-loss map as an overlay with a colour legend, and a table of regional volumes "
            "(baseline, predicted, % per year). The built-in model was trained on simulated progression with "
            "literature atrophy rates: it shows typical group rates, not this patient's prognosis. Read its card.")
        self.parent.acknowledgementText = ("Atrophy rates from Barnes et al. 2009, Fotenos et al. 2005, Jack et al. "
                                           "2004 and others (see the model card); anatomy from the IXI dataset.")


@parameterNodeWrapper
class MedSynthFutureParameterNode:
    inputVolume: slicer.vtkMRMLScalarVolumeNode
    labelVolume: slicer.vtkMRMLLabelMapVolumeNode
    age: float = 72.0
    sex: str = "F"
    diagnosis: str = "MCI"
    years: float = 3.0
    timepoints: int = 3


class MedSynthFutureWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        VTKObservationMixin.__init__(self)
        panel = slicer.util.loadUI(self.resourcePath("UI/MedSynthFuture.ui"))
        self.layout.addWidget(panel)
        self.ui = slicer.util.childWidgetVariables(panel)
        panel.setMRMLScene(slicer.mrmlScene)
        self.logic = MedSynthFutureLogic()
        self.runner = JobRunner(self.ui.applyButton, self.ui.progressBar, self.ui.statusLabel)
        self.entries = self.logic.models()
        for entry in self.entries:
            self.ui.modelSelector.addItem(f"{entry.card.name} ({entry.card.id} {entry.card.version})", entry.card.id)
        self.ui.modelSelector.connect("currentIndexChanged(int)", self.onModelChanged)
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.inputSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.updateDomain)
        self._parameterNode = self.logic.getParameterNode()
        self._parameterNode.connectGui(self.ui)
        self.addObserver(self._parameterNode.parameterNode, "ModifiedEvent", self.updateState)
        self.onModelChanged(0)

    def cleanup(self):
        self.removeObservers()

    def modelId(self):
        return self.ui.modelSelector.currentData if self.entries else None

    def onModelChanged(self, index):
        entry = self.entries[index] if 0 <= index < len(self.entries) else None
        self.ui.cardBrowser.setHtml(card_html(entry) if entry else
                                    "<p>No future-MRI model is installed. Import one in the MedSynth module.</p>")
        self.ui.rangesLabel.text = card_ranges(entry.card) if entry else ""
        self.updateState()
        self.updateDomain()

    def updateDomain(self, _node=None):
        node, model = self.ui.inputSelector.currentNode(), self.modelId()
        show_domain_report(self.ui.domainLabel, (lambda: self.logic.domainReport(node, model)) if node and self.entries
                           else None)

    def updateState(self, *_):
        p = self._parameterNode
        self.runner.state.validate(self.logic.problem(p.inputVolume, p.age, p.sex, p.diagnosis, p.years, p.timepoints,
                                                      self.modelId()))
        self.runner.refresh()

    def onApply(self):
        if self.runner.state.busy:
            self.runner.cancel()
            return
        if not ensure_runtime(lambda message: slicer.util.confirmOkCancelDisplay(message, windowTitle="MedSynth")):
            return
        p = self._parameterNode
        with slicer.util.tryWithErrorDisplay("Could not start the future-MRI prediction.", waitCursor=True):
            job = self.logic.startPrediction(p.inputVolume, p.age, p.sex, p.diagnosis, p.years, p.timepoints,
                                             p.labelVolume, self.modelId(),
                                             allowOutsideDomain=self.ui.outsideDomainCheckBox.checked)
            self.runner.start(job, self.onFinished)

    def onFinished(self, nodes):
        self.ui.sequenceBrowser.setMRMLSequenceBrowserNode(nodes.browser)
        self.ui.volumeTableView.setMRMLTableNode(nodes.table)
        slicer.util.setSliceViewerLayers(background=nodes.proxy, foreground=nodes.change_map,
                                         foregroundOpacity=0.5, fit=True)
        final = nodes.result.final
        hippocampus = nodes.result.volumes.get("hippocampus", final.years)
        self.runner.state.message = (f"Predicted {len(nodes.result.predictions)} timepoint(s) up to {final.years:g} years; "
                                     f"hippocampus {hippocampus.change_percent:+.1f} % ({hippocampus.measured_on}).")
        self.runner.refresh()


class MedSynthFutureLogic(ScriptedLoadableModuleLogic, FutureLogic):
    """Console: ``slicer.util.getModuleLogic("MedSynthFuture").runPrediction(t1, 72, "F", "MCI", 3)``."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        FutureLogic.__init__(self)

    def getParameterNode(self):
        return MedSynthFutureParameterNode(super().getParameterNode())


class MedSynthFutureTest(ScriptedLoadableModuleTest):
    """Runs inside Slicer: a 3-timepoint AD prediction of the MRHead sample."""

    def runTest(self):
        slicer.mrmlScene.Clear()
        self.test_prediction_of_sample_head()

    def test_prediction_of_sample_head(self):
        import numpy as np
        import SampleData

        t1 = SampleData.downloadSample("MRHead")
        before = slicer.util.arrayFromVolume(t1).copy()
        nodes = MedSynthFutureLogic().runPrediction(t1, 72.0, "F", "AD", 3.0, timepoints=3)
        self.assertEqual(nodes.sequence.GetIndexName(), "years")
        self.assertEqual(nodes.sequence.GetNumberOfDataNodes(), 4)
        self.assertEqual(nodes.sequence.GetNthIndexValue(3), "3")
        self.assertEqual(nodes.change_map.GetAttribute("MedSynth.Synthetic"), "YES")
        self.assertGreater(nodes.table.GetNumberOfRows(), 0)
        hippocampus = nodes.result.volumes.get("hippocampus", 3.0)
        self.assertLess(hippocampus.change_percent, 0.0)
        self.assertTrue(np.array_equal(slicer.util.arrayFromVolume(t1), before))
        self.delayDisplay("MedSynthFuture test passed")

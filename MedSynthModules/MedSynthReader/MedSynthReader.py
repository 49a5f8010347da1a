"""MedSynthReader: blinded expert reading sessions (real vs synthetic) and their analysis.

The work is in ``MedSynthReaderLib`` (Qt-free, tested headless) and the engine's ``medsynth.reading``;
the widget draws the questions, binds the presenter's key table to ``qt.QShortcut`` and decides nothing.
"""

import pathlib
import tempfile
from typing import Annotated

import qt
import slicer
from slicer.parameterNodeWrapper import Choice, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.util import VTKObservationMixin

from MedSynthLib.job_runner import JobRunner
from MedSynthLib.run_state import RunState
from MedSynthLib.scene_close import SceneCloseMixin
from MedSynthReaderLib.lead import WINDOW_LEVEL_CHOICES, LeadLogic
from MedSynthReaderLib.logic import DEFAULT_LAYOUT, LAYOUTS, ReaderLogic
from MedSynthReaderLib.presenter import TEXT, given_path, previous_enabled, reader_ids
from MedSynthReaderLib.shortcuts import PREVIOUS_KEY, help_text
from medsynth.reading.questions import FREE_TEXT, POINT_MARKS


class MedSynthReader(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Reader study"
        self.parent.categories = ["MedSynth"]
        self.parent.dependencies = ["MedSynth"]
        self.parent.contributors = ["MedSynth developers"]
        self.parent.helpText = ("Blinded reader studies of real vs synthetic images. Readers answer one case at a time "
                                "(keys R/S, 1-5, Enter); each answer is saved at once and a session resumes where it "
                                "stopped. The study lead creates sessions, adds readers, exports and analyses answers.")
        self.parent.acknowledgementText = "Statistics follow common reader-study practice (binomial test, Fleiss' kappa)."


@parameterNodeWrapper
class MedSynthReaderParameterNode:
    sessionDir: pathlib.Path
    readerId: str
    layout: Annotated[str, Choice(list(LAYOUTS))] = DEFAULT_LAYOUT
    realFolder: pathlib.Path
    newSessionDir: pathlib.Path
    studyId: str = "reader-study"
    readers: str
    windowLevel: Annotated[str, Choice(list(WINDOW_LEVEL_CHOICES))] = "auto"
    allowRevisit: bool = False
    pairByName: bool = False
    leadSessionDir: pathlib.Path
    keyFile: pathlib.Path
    newReaderId: str
    withTruth: bool = False


class MedSynthReaderWidget(SceneCloseMixin, ScriptedLoadableModuleWidget, VTKObservationMixin):
    resultAttributes = ("panel",)

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        VTKObservationMixin.__init__(self)
        panel = slicer.util.loadUI(self.resourcePath("UI/MedSynthReader.ui"))
        self.layout.addWidget(panel)
        self.ui = slicer.util.childWidgetVariables(panel)
        panel.setMRMLScene(slicer.mrmlScene)
        self.logic = MedSynthReaderLogic()
        self.panel = None  # the presenter of the open session's questions
        self.qtShortcuts, self.buttons, self.textEdits, self.countLabels = [], {}, {}, {}
        self.createRunner = JobRunner(self.ui.createButton, self.ui.createProgressBar, self.ui.createStatusLabel,
                                      RunState("Create session", inputs_valid=True))
        for button, slot in ((self.ui.startButton, self.onStart), (self.ui.nextButton, self.onNext),
                             (self.ui.previousButton, self.onPrevious), (self.ui.addSyntheticButton, self.onAddSynthetic),
                             (self.ui.removeSyntheticButton, self.onRemoveSynthetic), (self.ui.createButton, self.onCreate),
                             (self.ui.addReaderButton, self.onAddReader), (self.ui.exportButton, self.onExport),
                             (self.ui.analyzeButton, self.onAnalyze)):
            button.connect("clicked(bool)", lambda _checked, slot=slot: slot())
        self.observeSceneClose()
        self.refreshPanel()

    def enter(self):
        self.bindShortcuts()

    def exit(self):
        self.unbindShortcuts()

    def onSceneStartClose(self, caller=None, event=None):
        self.logic.closeSession()
        SceneCloseMixin.onSceneStartClose(self, caller, event)

    def cleanup(self):
        self.unbindShortcuts()
        self.logic.closeSession()
        SceneCloseMixin.cleanup(self)

    def onStart(self):
        p, self.panel = self._parameterNode, None
        with slicer.util.tryWithErrorDisplay("Could not open the reading session.", waitCursor=True):
            self.logic.setLayout(p.layout)
            self.logic.openSession(given_path(p.sessionDir), p.readerId)
            self.panel = self.logic.questionPanel()
            self.buildQuestions()
            session = self.logic.session
            self.ui.instructionsLabel.text = "\n".join(t for t in (session.title, session.instructions) if t)
            self.ui.shortcutsLabel.text = "Keys:\n" + help_text(self.panel.shortcuts)
            self.showCase(self.logic.loadCurrentCase())
        self.bindShortcuts()  # none when opening failed
        self.refreshPanel()

    def buildQuestions(self):
        """One box per question: toggle buttons, a text line or a "place mark" button."""
        layout = self.ui.questionsWidget.layout()
        while layout.count():
            layout.takeAt(0).widget().deleteLater()
        self.buttons, self.textEdits, self.countLabels = {}, {}, {}
        for control in self.panel.controls:
            qid = control.question_id
            box = qt.QGroupBox(control.title)
            form = qt.QVBoxLayout(box)
            for row in control.rows:
                if row.caption:
                    form.addWidget(qt.QLabel(row.caption))
                line = qt.QHBoxLayout()
                form.addLayout(line)
                for value, text in row.options:
                    button = qt.QPushButton(text)
                    button.checkable = True
                    button.connect("clicked(bool)", lambda _c, q=qid, f=row.field, v=value: self.onAnswer(q, f, v))
                    line.addWidget(button)
                    self.buttons[(qid, row.field, value)] = button
            if control.kind == FREE_TEXT:
                edit = qt.QLineEdit()
                edit.connect("textEdited(QString)", lambda text, q=qid: self.onAnswer(q, TEXT, text))
                form.addWidget(edit)
                self.textEdits[qid] = edit
            elif control.kind == POINT_MARKS:
                place = qt.QPushButton("Place mark")
                place.connect("clicked(bool)", lambda _c, q=qid: self.onPlaceMark(q))
                self.countLabels[qid] = qt.QLabel()
                form.addWidget(place)
                form.addWidget(self.countLabels[qid])
            if control.hint:
                form.addWidget(qt.QLabel(control.hint))
            layout.addWidget(box)

    def bindShortcuts(self):
        self.unbindShortcuts()
        for shortcut in self.panel.shortcuts if self.panel is not None else ():
            qshortcut = qt.QShortcut(qt.QKeySequence(shortcut.key), slicer.util.mainWindow())
            qshortcut.connect("activated()", lambda key=shortcut.key: self.onShortcut(key))
            self.qtShortcuts.append(qshortcut)

    def unbindShortcuts(self):
        for qshortcut in self.qtShortcuts:
            qshortcut.setParent(None)  # Python then owns it, and deletes it with the list
        self.qtShortcuts = []

    def showCase(self, node):
        slicer.app.layoutManager().setLayout(self.logic.layoutId)
        if node is not None:
            slicer.util.resetSliceViews()
        self.panel.reset(self.logic.view.previous_answers if self.logic.view else None)
        self.removeObservers(self.onMarksChanged)
        for marks in self.logic.marksNodes.values():
            for event in (slicer.vtkMRMLMarkupsNode.PointPositionDefinedEvent, slicer.vtkMRMLMarkupsNode.PointRemovedEvent):
                self.addObserver(marks, event, self.onMarksChanged)
        self.refreshPanel()

    def refreshPanel(self):
        """Copy the presenter's state onto the controls."""
        session = self.logic.session if self.panel is not None else None
        view = self.logic.view if session is not None else None
        self.ui.questionsWidget.enabled = view is not None
        self.ui.nextButton.enabled = view is not None and self.panel.complete
        self.ui.previousButton.enabled = session is not None and previous_enabled(view, session.allow_revisit)
        self.ui.validationLabel.text = self.panel.status_text if view is not None else ""
        if session is None:
            return
        self.ui.progressLabel.text = self.logic.progressText()
        self.ui.readingProgressBar.value = self.logic.progressPercent()
        for (qid, field, value), button in self.buttons.items():
            button.checked = self.panel.value(qid, field) == value
        for qid, edit in self.textEdits.items():
            text = self.panel.value(qid, TEXT) or ""
            if edit.text != text:
                edit.text = text
        for qid, label in self.countLabels.items():
            label.text = f"{self.panel.point_counts.get(qid, 0)} mark(s) placed (a mark's description is its note)."

    def onAnswer(self, questionId, field, value):
        self.panel.set(questionId, field, value)
        self.refreshPanel()

    def onShortcut(self, key):
        # When every case is answered only going back makes sense.
        action = self.panel.apply_shortcut(key) if self.logic.view is not None or key == PREVIOUS_KEY else None
        {"next": self.onNext, "previous": self.onPrevious, "mark": self.onPlaceMark}.get(action, self.refreshPanel)()

    def onMarksChanged(self, caller=None, event=None):
        self.panel.point_counts = self.logic.pointCounts()
        self.refreshPanel()

    def onNext(self):
        if self.logic.view is None or not self.panel.complete:
            self.refreshPanel()  # the status line says what is missing
            return
        with slicer.util.tryWithErrorDisplay("Could not save the answer; it was NOT recorded.", waitCursor=True):
            self.logic.answerFromPanel(self.panel)
            self.showCase(self.logic.next())

    def onPrevious(self):
        with slicer.util.tryWithErrorDisplay("Could not go back.", waitCursor=True):
            self.showCase(self.logic.previous())

    def onPlaceMark(self, questionId=None):
        with slicer.util.tryWithErrorDisplay("Could not start placing a mark."):
            self.logic.startPlacingMarks(questionId)

    def onAddSynthetic(self):
        folder = qt.QFileDialog.getExistingDirectory(slicer.util.mainWindow(), "Folder of synthetic images")
        if folder:
            self.ui.syntheticFolderList.addItem(folder)

    def onRemoveSynthetic(self):
        self.ui.syntheticFolderList.takeItem(self.ui.syntheticFolderList.currentRow)

    def onCreate(self):
        if self.createRunner.state.busy:
            self.createRunner.cancel()
            return
        p, folders = self._parameterNode, self.ui.syntheticFolderList
        with slicer.util.tryWithErrorDisplay("Could not create the session.", waitCursor=True):
            job = self.logic.startCreateSession(
                given_path(p.realFolder), [folders.item(i).text() for i in range(folders.count)],
                given_path(p.newSessionDir), readers=reader_ids(p.readers), studyId=p.studyId,
                allowRevisit=p.allowRevisit, pairByName=p.pairByName, windowLevel=p.windowLevel)
            self.createRunner.start(job, self.onCreated)

    def onCreated(self, created):
        self._parameterNode.leadSessionDir = created.built.session_dir
        self.createRunner.state.message = created.summary

    def onAddReader(self):
        p = self._parameterNode
        with slicer.util.tryWithErrorDisplay("Could not add the reader.", waitCursor=True):
            count = self.logic.addReader(given_path(p.leadSessionDir), p.newReaderId, given_path(p.keyFile))
            self.ui.leadStatusLabel.text = f"Reader {p.newReaderId.strip()} has their own order of {count} cases."

    def onExport(self):
        path = qt.QFileDialog.getSaveFileName(slicer.util.mainWindow(), "Export answers", "answers.csv",
                                              "CSV (*.csv);;JSON (*.json)")
        if not path:
            return
        p = self._parameterNode
        with slicer.util.tryWithErrorDisplay("Could not export the answers.", waitCursor=True):
            written = self.logic.exportAnswers(given_path(p.leadSessionDir), path, withTruth=p.withTruth,
                                               keyPath=given_path(p.keyFile))
            self.ui.leadStatusLabel.text = f"Wrote {written}" + (" (with the truth)" if p.withTruth else " (blinded)")

    def onAnalyze(self):
        path = qt.QFileDialog.getSaveFileName(slicer.util.mainWindow(), "Write the report", "report.html",
                                              "HTML report (*.html);;Markdown report (*.md)")
        if not path:
            return
        p = self._parameterNode
        with slicer.util.tryWithErrorDisplay("Could not analyse the session.", waitCursor=True):
            outcome = self.logic.analyzeSession(given_path(p.leadSessionDir), path, given_path(p.keyFile))
            self.ui.summaryBrowser.setPlainText(outcome.summary)
            self.ui.verdictLabel.text = f"Verdict: {outcome.verdict}"
            self.ui.leadStatusLabel.text = f"Report: {outcome.reportFiles[0]}"


class MedSynthReaderLogic(ScriptedLoadableModuleLogic, ReaderLogic, LeadLogic):
    """Console: ``slicer.util.getModuleLogic("MedSynthReader")``: reader methods (openSession, loadCurrentCase,
    answer, next...) and lead methods (createSession, addReader, exportAnswers, analyzeSession)."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        ReaderLogic.__init__(self)

    def getParameterNode(self):
        return MedSynthReaderParameterNode(super().getParameterNode())


class MedSynthReaderTest(ScriptedLoadableModuleTest):
    """Runs inside Slicer: a 2-case study from the MRHead sample (real) and a smoothed copy (synthetic),
    read to the end with the keyboard table, then analysed (``MedSynthReaderLib.sample_study``)."""

    def runTest(self):
        slicer.mrmlScene.Clear()
        self.test_reader_study_on_sample_data()

    def test_reader_study_on_sample_data(self):
        import SampleData

        from MedSynthLib.volume_bridge import node_to_image
        from MedSynthReaderLib.sample_study import SAMPLE_READER, read_sample_study

        image = node_to_image(SampleData.downloadSample("MRHead"))
        with tempfile.TemporaryDirectory() as folder:
            outcome = read_sample_study(MedSynthReaderLogic(), image, folder)
            self.assertTrue(outcome.reportFiles[0].is_file())
            self.assertIn(f"{SAMPLE_READER}: 2/2 answered", outcome.summary)
        self.delayDisplay("MedSynthReader test passed")

"""A reader's session in the scene: one blinded case at a time, answers saved as they are given.

Qt-free, so it runs in Slicer, in scripts and under pytest against the real MRML library. The
engine's :class:`~medsynth.reading.ReadingSession` decides the order, resumes at the first
unanswered case and commits each answer to disk; this logic puts the case on screen with nothing
but its opaque id, removes the previous case's nodes when moving on (so earlier cases cannot be
browsed in the Data module), and turns markups into answer points. Console use::

    logic = slicer.util.getModuleLogic("MedSynthReader")
    logic.openSession("/studies/s1", "r1")         # resumes at the first unanswered case
    node = logic.loadCurrentCase()                 # volume node named by the opaque case id
    logic.answer({"call": {"choice": "synthetic", "confidence": 4}, "realism": 2})
    node = logic.next()                            # None when every case is answered
    print(logic.progressText())                    # "2 / 40"
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

import slicer
from MedSynthReaderLib.case_nodes import addCaseVolume, removeWithDisplayNodes
from MedSynthReaderLib.marks import addMarksNode, pointMarksFromNode
from MedSynthReaderLib.presenter import QuestionPanel, progress_text
from medsynth.reading import CaseView, ReadingSession, SessionError
from medsynth.reading.questions import POINT_MARKS, normalise_answers

#: Layouts a study can be read in: name -> Slicer layout id (applied by the widget).
LAYOUTS = {"four-up": slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpView,
           "single": slicer.vtkMRMLLayoutNode.SlicerLayoutOneUpRedSliceView,
           "three-planes": slicer.vtkMRMLLayoutNode.SlicerLayoutThreeOverThreeView}
DEFAULT_LAYOUT = "four-up"  # three orthogonal planes: synthetic texture often shows off-plane


class ReaderLogic:
    """One reader, one session, one case node (and its marks nodes) in the scene at a time."""

    def __init__(self, scene=None) -> None:
        self._scene = scene
        self.session: ReadingSession | None = None
        self.view: CaseView | None = None
        self.caseNode = None
        self.marksNodes: dict[str, Any] = {}
        self.layoutName = DEFAULT_LAYOUT

    @property
    def scene(self):
        return self._scene or slicer.mrmlScene

    @property
    def layoutId(self) -> int:
        """The Slicer layout the widget applies with ``slicer.app.layoutManager().setLayout``."""
        return LAYOUTS[self.layoutName]

    def setLayout(self, name: str) -> None:
        if name not in LAYOUTS:
            raise ValueError(f"Unknown layout {name!r}; choose one of {', '.join(LAYOUTS)}.")
        self.layoutName = name

    # -- session -------------------------------------------------------------------------
    def openSession(self, sessionDir: str | os.PathLike, readerId: str) -> CaseView | None:
        """Open ``sessionDir`` for ``readerId`` and go to the first unanswered case (``None``: all done).

        Raises :class:`SessionError` with what to do for a missing folder or an unknown reader.
        """
        if not str(readerId or "").strip():
            raise SessionError("Enter your reader id (the study lead gave it to you with the session folder).")
        if not sessionDir or not os.path.isdir(sessionDir):
            raise SessionError(f"Session folder not found: {sessionDir or '(none chosen)'}. Choose the folder the "
                               "study lead gave you (it holds session.sqlite).")
        self.closeSession()
        self.session = ReadingSession.open(sessionDir, str(readerId).strip())
        self.view = self.session.current()
        return self.view

    def closeSession(self) -> None:
        """Take the case off screen and close the database (every answer is already on disk)."""
        self._removeCaseNodes()
        if self.session is not None:
            self.session.close()
        self.session, self.view = None, None

    def questionPanel(self) -> QuestionPanel:
        """A fresh question panel for this session's questions (filled with the case's stored answer)."""
        session = self._require()
        panel = QuestionPanel(session.questions, session.allow_revisit)
        panel.reset(self.view.previous_answers if self.view else None)
        return panel

    # -- the case on screen --------------------------------------------------------------
    def loadCurrentCase(self):
        """Put the current case in the scene (replacing the previous one); ``None`` when all are done."""
        self._require()
        self._removeCaseNodes()
        if self.view is None:
            return None
        self.caseNode = addCaseVolume(self.scene, self.view)
        previous = self.view.previous_answers or {}
        for question in self.view.questions:
            if question.kind == POINT_MARKS:
                self.marksNodes[question.question_id] = addMarksNode(
                    self.scene, self.view.case_id, question.question_id, question.max_points,
                    previous.get(question.question_id))
        return self.caseNode

    def pointMarks(self) -> dict[str, list]:
        """Placed marks per point-marks question, in LPS millimetres."""
        return {qid: pointMarksFromNode(node) for qid, node in self.marksNodes.items()}

    def pointCounts(self) -> dict[str, int]:
        """Placed marks per point-marks question (for the panel's count)."""
        return {qid: node.GetNumberOfDefinedControlPoints() for qid, node in self.marksNodes.items()}

    def startPlacingMarks(self, questionId: str | None = None) -> None:
        """Put the views in "place point" mode on the case's marks node (one click, one mark)."""
        if not self.marksNodes:
            raise SessionError("This study does not ask for point marks.")
        node = self.marksNodes[questionId] if questionId else next(iter(self.marksNodes.values()))
        selection = self.scene.GetNodeByID("vtkMRMLSelectionNodeSingleton")
        selection.SetReferenceActivePlaceNodeClassName("vtkMRMLMarkupsFiducialNode")
        selection.SetActivePlaceNodeID(node.GetID())
        interaction = self.scene.GetNodeByID("vtkMRMLInteractionNodeSingleton")
        interaction.SetPlaceModePersistence(1)
        interaction.SetCurrentInteractionMode(interaction.Place)

    # -- answering and moving ------------------------------------------------------------
    def answer(self, answers: Mapping[str, Any]):
        """Save the answer to the case on screen (committed when this returns); returns the stored
        record, or ``None`` when a revisited case's answer is unchanged (no new revision)."""
        session = self._require()
        if self.view is None:
            raise SessionError("Every case of this session is answered; there is no case to answer.")
        if self.view.previous_answers is not None and \
                normalise_answers(session.questions, answers) == self.view.previous_answers:
            return None
        record = session.answer(self.view.case_id, answers)
        self.view = dataclasses.replace(self.view, previous_answers=record.answers)  # the panel's "stored" state
        return record

    def answerFromPanel(self, panel: QuestionPanel):
        """Save what the panel holds plus the marks placed in the views."""
        return self.answer(panel.answers(self.pointMarks()))

    def next(self):
        """Go to the next case and load it (the previous case's nodes leave the scene); ``None``
        when every case is answered. The case on screen must be answered first."""
        session = self._require()
        if self.view is not None and session.answer_of(self.view.case_id) is None:
            raise SessionError("Answer this case before moving on (the answer is saved when you press Next).")
        position = self.view.position if self.view is not None else None
        if session.allow_revisit and position is not None and position + 1 < len(session.order):
            self.view = session.go_to(position + 1)
        else:
            self.view = session.next_case()
        return self.loadCurrentCase()

    def previous(self):
        """Go back one case (studies that allow revisiting); at the first case nothing changes."""
        view = self._require().previous()
        if view is None:
            return self.caseNode
        self.view = view
        return self.loadCurrentCase()

    def progressText(self) -> str:
        done, total = self._require().progress()
        return progress_text(self.view, done, total)

    def progressPercent(self) -> int:
        """Answered cases in percent, for the progress bar."""
        done, total = self._require().progress()
        return int(100 * done / max(total, 1))

    @property
    def isComplete(self) -> bool:
        return self._require().is_complete

    # -- internals -----------------------------------------------------------------------
    def _require(self) -> ReadingSession:
        if self.session is None:
            raise SessionError("No reading session is open; choose the session folder and your reader id first.")
        return self.session

    def _removeCaseNodes(self) -> None:
        for node in [self.caseNode, *self.marksNodes.values()]:
            removeWithDisplayNodes(node)
        self.caseNode, self.marksNodes = None, {}

"""A whole reader study in miniature, end to end: what the module's Slicer self-test runs.

From one real image: a "real" folder holding it and a "synthetic" folder holding a smoothed copy,
a session built from them, one reader answering every case through the keyboard table, and the
analysis with its report. Kept here (Qt-free) so pytest runs exactly what Slicer's self-test runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import SimpleITK as sitk

from MedSynthReaderLib.lead import AnalysisOutcome
from MedSynthReaderLib.logic import ReaderLogic

#: Keys the sample reader presses on every case: synthetic, confidence 3, second answer 4.
SAMPLE_KEYS = ("S", "3", "Alt+4")
SAMPLE_READER = "tester"


def read_sample_study(logic, image: sitk.Image, root: str | os.PathLike) -> AnalysisOutcome:
    """Create, read to the end and analyse a 2-case study under ``root`` with ``logic`` (a logic
    with both the reader and the lead methods). Checks what a reader's scene must never show."""
    root = Path(root)
    (root / "real").mkdir(parents=True)
    (root / "blurgen").mkdir()
    sitk.WriteImage(image, str(root / "real" / "head.nrrd"))
    sitk.WriteImage(sitk.SmoothingRecursiveGaussian(sitk.Cast(image, sitk.sitkFloat32), 2.0),
                    str(root / "blurgen" / "head.nrrd"))
    created = logic.createSession(root / "real", [root / "blurgen"], root / "session", readers=[SAMPLE_READER],
                                  allowRevisit=True)
    reader: ReaderLogic = logic
    reader.openSession(created.built.session_dir, SAMPLE_READER)
    node = reader.loadCurrentCase()
    while node is not None:
        if node.GetName() != reader.view.case_id or node.GetStorageNode() is not None:
            raise AssertionError(f"Case node {node.GetName()!r} carries more than its opaque id.")
        panel = reader.questionPanel()
        for key in SAMPLE_KEYS:
            panel.apply_shortcut(key)
        reader.answerFromPanel(panel)
        node = reader.next()
    if not reader.isComplete:
        raise AssertionError("The sample session did not end complete.")
    reader.closeSession()
    return logic.analyzeSession(created.built.session_dir)

"""Expert validation reading sessions: blinded, randomised, crash-safe reader studies of real vs
synthetic images, and their statistics.

Administrator (has the truth)::

    from medsynth.reading import load_study, build_session, analyze_session, write_report
    study = load_study("study.yaml")               # or study_from_folders(real_dir, {"gen": synth_dir})
    built = build_session(study, "sessions/s1")    # -> sessions/s1/ + sessions/s1.truth-key.json
    ...readers read...
    analysis = analyze_session("sessions/s1")      # key found beside the folder, or key_path=...
    write_report(analysis, "report.html")          # or .md (+ .svg charts); export_answers(...) for CSV/JSON

Reader (no truth: only ``sessions/s1/`` is needed, the key is never opened)::

    from medsynth.reading import ReadingSession
    with ReadingSession.open("sessions/s1", "r1") as session:
        view = session.next_case()                 # resumes at the first unanswered case
        while view is not None:
            image = view.load_image()              # or load view.image_path; name the node view.node_name,
                                                   # set view.attributes, apply view.window / view.level
            session.answer(view.case_id, {"call": {"choice": "synthetic", "confidence": 4},
                                          "realism": 2, "comments": "",
                                          "artefacts": [{"ras_mm": [1.0, 2.0, 3.0], "note": "ringing"}]})
            done, total = session.progress()
            view = session.next_case()
        # session.previous() / session.go_to(i) revisit answered cases when the study allows it

A :class:`CaseView` holds only an opaque case id, a blinded image path (``images/<opaque>.nii``,
pixels and geometry only), window/level and the questions. Each answer is one committed SQLite
(WAL) transaction. Modules: study (definition + validation), questions, create (from folders),
blinding, order, database, build, key (truth key), session, export, statistics, analysis,
acceptance, report, svg. Errors: StudyError / AnswerError (InputError), SessionError.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AnswerError": "errors", "SessionError": "errors", "StudyError": "errors",
    "Question": "questions", "default_questions": "questions",
    "Study": "study", "CaseSpec": "study", "Criterion": "study", "WindowLevel": "study",
    "load_study": "study", "parse_study": "study", "save_study": "study", "blinding_warnings": "study",
    "study_from_folders": "create",
    "build_session": "build", "add_reader": "build", "BuiltSession": "build",
    "ReadingSession": "session", "CaseView": "session", "Progress": "session",
    "read_key": "key", "default_key_path": "key",
    "export_answers": "export", "answer_table": "export",
    "analyze_session": "analysis", "analyze_readings": "analysis", "Reading": "analysis",
    "StudyAnalysis": "analysis",
    "write_report": "report", "format_summary": "report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # Lazy, so a reader's process (or the Slicer module) does not import numpy/SimpleITK until needed.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'medsynth.reading' has no attribute {name!r}")
    return getattr(importlib.import_module(f"medsynth.reading.{module}"), name)

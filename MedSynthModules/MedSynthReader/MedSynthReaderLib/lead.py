"""The study lead's side: build a session from folders, add readers, export answers, analyse.

Thin over the engine (``medsynth.reading``), which blinds, orders, exports and computes the
statistics; this file turns panel inputs into engine calls, checks their paths with the command
line's guard (:func:`medsynth.io.guard.check_call_paths`: never over an input, never into a system
location or under a file), runs the (slow) session build as a
cancellable background job, and checks the inputs a GUI user can get wrong with messages that say
which field to fix. Console use::

    logic = slicer.util.getModuleLogic("MedSynthReader")
    created = logic.createSession("/data/real", {"gan-v2": "/data/gan"}, "/studies/s1", readers=["r1", "r2"])
    logic.addReader("/studies/s1", "r3")
    logic.exportAnswers("/studies/s1", "/studies/s1-answers.csv", withTruth=True)
    outcome = logic.analyzeSession("/studies/s1")       # writes /studies/s1.report.html
    print(outcome.summary, outcome.verdict)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from MedSynthLib.background import BackgroundJob
from medsynth.errors import Cancelled
from medsynth.io.guard import check_call_paths
from medsynth.reading import (BuiltSession, SessionError, StudyAnalysis, StudyError, WindowLevel, add_reader,
                              analyze_session, blinding_warnings, build_session, default_key_path,
                              export_answers, format_summary, study_from_folders, write_report)
from medsynth.reading.database import SESSION_DB_NAME
from medsynth.reading.study import WINDOW_LEVEL_PRESETS

#: Window/level choices of a new session: "auto" (the viewer's) or one of the engine's presets.
WINDOW_LEVEL_CHOICES = ("auto", *WINDOW_LEVEL_PRESETS)
REPORT_SUFFIX = ".report.html"


@dataclass(frozen=True)
class CreatedSession:
    """A built session and what in its design could hint at the truth (for the lead to decide)."""

    built: BuiltSession
    warnings: tuple[str, ...]

    @property
    def summary(self) -> str:
        """What the lead needs to know next: where the folder and the key are, and any warning."""
        readers = ", ".join(self.built.reader_ids) or "none yet (add them below)"
        lines = [f"Session {self.built.session_dir}: {self.built.n_cases} cases; readers: {readers}.",
                 f"Truth key: {self.built.key_path} (keep it away from readers).",
                 *(f"Warning: {w}" for w in self.warnings)]
        return "\n".join(lines)


@dataclass(frozen=True)
class AnalysisOutcome:
    """What the analysis panel shows: the terminal summary, the verdict and the report files."""

    analysis: StudyAnalysis
    summary: str
    verdict: str
    reportFiles: tuple[Path, ...]


class LeadLogic:
    """Session creation and the analysis side of a reader study (needs the truth key)."""

    def startCreateSession(self, realFolder: str | os.PathLike, syntheticFolders: Mapping[str, str | os.PathLike]
                           | Sequence[str | os.PathLike], sessionDir: str | os.PathLike, readers: Sequence[str] = (),
                           studyId: str = "reader-study", title: str = "", allowRevisit: bool = False,
                           pairByName: bool = False, windowLevel: str = "auto", seed: int | None = None,
                           keyPath: str | os.PathLike | None = None) -> BackgroundJob:
        """A not-yet-started job building the session; its ``finish()`` returns :class:`CreatedSession`.

        ``syntheticFolders`` maps generator name -> folder, or lists folders (each named after
        itself). The study is validated here, on the calling thread, so input errors show at once.
        """
        if not realFolder:
            raise StudyError("Choose the folder of real images.")
        if not sessionDir:
            raise StudyError("Choose a new, empty folder for the session (the truth key is written beside it).")
        if windowLevel not in WINDOW_LEVEL_CHOICES:
            raise StudyError(f"Window/level {windowLevel!r}: choose one of {', '.join(WINDOW_LEVEL_CHOICES)}.")
        named = generatorFolders(syntheticFolders)
        check_call_paths(inputs={"realFolder": realFolder, **{f"syntheticFolders[{n}]": f for n, f in named.items()}},
                         outputs={"keyPath": (keyPath, (".json",))}, out_dirs={"sessionDir": sessionDir})
        study = study_from_folders(
            realFolder, named, study_id=studyId or "reader-study", title=title,
            readers=list(readers), seed=seed, allow_revisit=allowRevisit, pair_by_name=pairByName,
            window_level=None if windowLevel == "auto" else WindowLevel(*WINDOW_LEVEL_PRESETS[windowLevel]))
        warnings = tuple(blinding_warnings(study))

        def work(progress, cancelled) -> BuiltSession:
            def report(fraction: float) -> None:
                if cancelled():  # build_session removes its half-built folder when this raises
                    raise Cancelled("Session creation cancelled; nothing was written.")
                progress(fraction)
            return build_session(study, sessionDir, key_path=keyPath, progress=report)

        return BackgroundJob(work, lambda built: CreatedSession(built, warnings))

    def createSession(self, realFolder, syntheticFolders, sessionDir, **options) -> CreatedSession:
        """Synchronous :meth:`startCreateSession` (same arguments), for scripts and the console."""
        return self.startCreateSession(realFolder, syntheticFolders, sessionDir, **options).start().wait_for_completion()

    def addReader(self, sessionDir: str | os.PathLike, readerId: str, keyPath: str | os.PathLike | None = None) -> int:
        """Give ``readerId`` their own case order (needs the truth key); returns their number of cases."""
        _require_session(sessionDir)
        _require_key(sessionDir, keyPath, "Adding a reader")
        return len(add_reader(sessionDir, str(readerId or "").strip(), keyPath))

    def exportAnswers(self, sessionDir: str | os.PathLike, destination: str | os.PathLike, withTruth: bool = False,
                      keyPath: str | os.PathLike | None = None, history: bool = False) -> Path:
        """Write every reader's answers to ``destination`` (.csv or .json). Blinded (opaque ids only)
        unless ``withTruth``, which joins the truth key and needs it."""
        _require_session(sessionDir)
        check_call_paths(inputs={"sessionDir": sessionDir, "keyPath": _key_input(sessionDir, keyPath)},
                         outputs={"destination": (destination, (".csv", ".json"))})
        if withTruth:
            _require_key(sessionDir, keyPath, "Exporting with the truth")
        return export_answers(sessionDir, destination, key_path=keyPath, with_truth=withTruth, history=history)

    def analyzeSession(self, sessionDir: str | os.PathLike, reportPath: str | os.PathLike | None = None,
                       keyPath: str | os.PathLike | None = None) -> AnalysisOutcome:
        """Statistics and verdict of the session; writes the report (default ``<session>.report.html``
        beside the session folder, like the truth key)."""
        _require_session(sessionDir)
        _require_key(sessionDir, keyPath, "Analysis")
        folder = Path(os.path.abspath(sessionDir))
        report = reportPath or folder.parent / f"{folder.name}{REPORT_SUFFIX}"
        check_call_paths(inputs={"sessionDir": sessionDir, "keyPath": _key_input(sessionDir, keyPath)},
                         outputs={"reportPath": (report, (".html", ".md", ".markdown"))})
        analysis = analyze_session(sessionDir, keyPath)
        written = write_report(analysis, report)
        return AnalysisOutcome(analysis, format_summary(analysis), analysis.verdict, tuple(written))


def generatorFolders(folders: Mapping[str, str | os.PathLike] | Sequence[str | os.PathLike]) -> dict[str, Path]:
    """``{generator name: folder}``; a folder given without a name is named after itself."""
    if isinstance(folders, Mapping):
        return {str(name): Path(folder) for name, folder in folders.items()}
    named: dict[str, Path] = {}
    for folder in folders:
        name = Path(str(folder).rstrip("/\\")).name
        if name in named:
            raise StudyError(f"Two synthetic folders are both named {name!r}; give them distinct names "
                             "(the name is the generator's name in the report).")
        named[name] = Path(folder)
    if not named:
        raise StudyError("Add at least one folder of synthetic images.")
    return named


def _require_session(sessionDir: str | os.PathLike | None) -> None:
    if not sessionDir or not (Path(sessionDir) / SESSION_DB_NAME).is_file():
        raise SessionError(f"No reading session at {sessionDir or '(none chosen)'}: choose the session folder "
                           "(it holds session.sqlite).")


def _key_input(sessionDir: str | os.PathLike, keyPath: str | os.PathLike | None) -> Path | None:
    """The truth key as an input the path guard protects: the given one, or the default one when it exists."""
    key = Path(keyPath) if keyPath else default_key_path(sessionDir)
    return key if keyPath or key.is_file() else None


def _require_key(sessionDir: str | os.PathLike, keyPath: str | os.PathLike | None, what: str) -> None:
    key = Path(keyPath) if keyPath else default_key_path(sessionDir)
    if not key.is_file():
        raise SessionError(f"{what} needs the truth key, which was not found at {key}. Choose the key file "
                           "(<session>.truth-key.json, written beside the session folder when it was created).")

"""A reader's session: blinded cases in the reader's own order, answers saved as they are given.

Reader mode opens only the session database and the blinded images; it never opens the truth
key. Every :meth:`ReadingSession.answer` is one committed SQLite transaction, so a crash, a power
cut or a closed Slicer loses nothing already answered, and :meth:`ReadingSession.next_case`
resumes at the first case in the reader's order that has no answer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

from medsynth.reading import database as db
from medsynth.reading.errors import SessionError
from medsynth.reading.questions import Question, normalise_answers, question_from_dict

if TYPE_CHECKING:  # SimpleITK is imported only when an image is actually loaded
    import SimpleITK as sitk


class Progress(NamedTuple):
    """How far a reader is: ``done`` answered of ``total`` cases."""

    done: int
    total: int


@dataclass(frozen=True)
class CaseView:
    """What a reader's software may show of one case: nothing here reveals the truth.

    ``image_path`` is the blinded copy (named by the opaque id); ``node_name`` and ``attributes``
    are what a Slicer logic should give the volume node, and nothing else. ``window``/``level``
    ``None`` means the viewer's automatic window/level. ``previous_answers`` holds this reader's
    stored answer when the case is revisited, so a form can be pre-filled.
    """

    case_id: str
    position: int
    total: int
    image_path: Path
    window: float | None
    level: float | None
    questions: tuple[Question, ...]
    previous_answers: dict[str, Any] | None = None
    node_name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    def load_image(self) -> "sitk.Image":
        """Read the blinded image (float32, pixels and geometry only)."""
        from medsynth.io.images import read_image
        return read_image(self.image_path)


class ReadingSession:
    """One reader working through one session. Create with :meth:`open`; close when done."""

    def __init__(self, conn: sqlite3.Connection, session_dir: Path, reader: db.ReaderRow,
                 meta: Mapping[str, str], cases: Mapping[str, db.CaseRow]) -> None:
        self._conn = conn
        self._session_dir = session_dir
        self._reader = reader
        self._meta = dict(meta)
        self._cases = dict(cases)
        self._questions = tuple(question_from_dict(q) for q in json.loads(meta["questions"]))
        self._position_of = {case_id: i for i, case_id in enumerate(reader.case_order)}
        self._cursor: int | None = None
        self._shown_at: dict[str, float] = {}

    @classmethod
    def open(cls, session: str | os.PathLike, reader_id: str) -> "ReadingSession":
        """Open ``session`` (folder or ``session.sqlite``) for ``reader_id``.

        Raises :class:`SessionError` when the session is missing or damaged or the reader is not
        part of the study (the administrator adds readers with ``medsynth reading add-reader``).
        """
        database = db.resolve_database(session)
        conn = db.connect(database)
        try:
            meta = db.read_meta(conn)
            reader = db.read_reader(conn, reader_id)
            if reader is None:
                known = ", ".join(r.reader_id for r in db.read_readers(conn)) or "none yet"
                raise SessionError(f"Reader '{reader_id}' is not part of this study (readers: {known}). "
                                   "Check the reader id, or ask the study administrator to run "
                                   "`medsynth reading add-reader`.")
            cases = db.read_cases(conn)
            missing = [c for c in reader.case_order if c not in cases]
            if missing:
                raise SessionError(f"The session database is inconsistent: order of '{reader_id}' names unknown "
                                   f"cases {missing[:3]}.")
        except BaseException:
            conn.close()
            raise
        return cls(conn, database.parent, reader, meta, cases)

    # -- what the study is ---------------------------------------------------------------
    @property
    def reader_id(self) -> str:
        return self._reader.reader_id

    @property
    def study_id(self) -> str:
        return self._meta.get("study_id", "")

    @property
    def title(self) -> str:
        return self._meta.get("title", "")

    @property
    def instructions(self) -> str:
        return self._meta.get("instructions", "")

    @property
    def allow_revisit(self) -> bool:
        return json.loads(self._meta.get("allow_revisit", "false"))

    @property
    def questions(self) -> tuple[Question, ...]:
        return self._questions

    @property
    def order(self) -> tuple[str, ...]:
        """This reader's recorded case order (opaque ids)."""
        return self._reader.case_order

    @property
    def seed(self) -> int:
        """The seed this reader's order was drawn with."""
        return self._reader.seed

    # -- navigation ----------------------------------------------------------------------
    def next_case(self) -> CaseView | None:
        """Move to the first unanswered case in this reader's order; ``None`` when all are done.

        This is also how a session resumes after a crash or a restart.
        """
        answered = db.answered_case_ids(self._conn, self.reader_id)
        for position, case_id in enumerate(self.order):
            if case_id not in answered:
                return self._move_to(position)
        self._cursor = None
        return None

    def current(self) -> CaseView | None:
        """The case on screen (the first unanswered one if nothing was shown yet); ``None`` when done."""
        if self._cursor is None:
            return self.next_case()
        return self._view(self._cursor)

    def previous(self) -> CaseView | None:
        """Step back one case to review or change its answer; ``None`` at the first case.

        Raises :class:`SessionError` when the study does not allow revisiting.
        """
        self._require_revisit()
        if self._cursor is None:
            position = len(self.order) - 1
        elif self._cursor == 0:
            return None
        else:
            position = self._cursor - 1
        return self._move_to(position)

    def go_to(self, position: int) -> CaseView:
        """Show the case at ``position`` (0-based) of this reader's order.

        Going to an answered case is revisiting and needs ``allow_revisit``.
        """
        if not 0 <= position < len(self.order):
            raise SessionError(f"Position {position} is outside 0..{len(self.order) - 1}.")
        if db.read_answer(self._conn, self.reader_id, self.order[position]) is not None:
            self._require_revisit()
        return self._move_to(position)

    # -- answering -----------------------------------------------------------------------
    def answer(self, case_id: str, answers: Mapping[str, Any], *,
               duration_s: float | None = None) -> db.AnswerRecord:
        """Check and save this reader's answers to ``case_id``; committed to disk when this returns.

        ``answers`` maps question id -> answer (see :mod:`medsynth.reading.questions`). The time
        from when the case was shown to now is stored as ``duration_s`` (``None`` when the case
        was not shown by this session object, e.g. answered straight after a restart); a given
        ``duration_s`` replaces that measure (the web server's objects live for one request, so it
        passes its own checked one).
        Raises :class:`~medsynth.reading.errors.AnswerError` for an invalid answer and
        :class:`SessionError` for an unknown case or a second answer without ``allow_revisit``.
        """
        position = self._position_of.get(case_id)
        if position is None:
            raise SessionError(f"Case {case_id!r} is not in this reader's session.")
        stored = normalise_answers(self._questions, answers)
        shown = self._shown_at.get(case_id)
        duration = duration_s if duration_s is not None else (
            None if shown is None else round(time.monotonic() - shown, 3))
        try:
            record = db.save_answer(self._conn, self.reader_id, case_id, position, stored, duration,
                                    allow_revision=self.allow_revisit)
        except sqlite3.DatabaseError as exc:
            raise SessionError(f"Could not save the answer to {case_id} ({exc}); it was NOT recorded. "
                               "Check the disk and try again.") from None
        self._shown_at.pop(case_id, None)
        return record

    def answer_of(self, case_id: str) -> dict[str, Any] | None:
        """This reader's stored answer to ``case_id``, or ``None``."""
        record = db.read_answer(self._conn, self.reader_id, case_id)
        return None if record is None else record.answers

    def progress(self) -> Progress:
        """``(done, total)`` for this reader, read from the database (other windows count too)."""
        answered = db.answered_case_ids(self._conn, self.reader_id)
        return Progress(len(answered & set(self.order)), len(self.order))

    @property
    def is_complete(self) -> bool:
        done, total = self.progress()
        return done == total

    # -- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        """Close the database connection; every answer is already on disk."""
        self._conn.close()

    def __enter__(self) -> "ReadingSession":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------
    def _require_revisit(self) -> None:
        if not self.allow_revisit:
            raise SessionError("This study does not allow going back to answered cases.")

    def _move_to(self, position: int) -> CaseView:
        case_id = self.order[position]
        if self._cursor != position or case_id not in self._shown_at:
            self._shown_at[case_id] = time.monotonic()
        self._cursor = position
        return self._view(position)

    def _view(self, position: int) -> CaseView:
        case_id = self.order[position]
        row = self._cases[case_id]
        return CaseView(
            case_id=case_id, position=position, total=len(self.order),
            image_path=self._session_dir / row.image, window=row.window, level=row.level,
            questions=self._questions, previous_answers=self.answer_of(case_id),
            node_name=case_id,
            attributes={"MedSynth.Reading.CaseId": case_id,
                        "MedSynth.Reading.Position": f"{position + 1}/{len(self.order)}"})

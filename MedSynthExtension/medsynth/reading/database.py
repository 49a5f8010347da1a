"""The session database: SQLite in WAL mode, one transaction per answer.

Why SQLite: an answer is durable the moment ``answer()`` returns (``synchronous=FULL``: the
commit is on disk, so even a power cut keeps it), a process killed mid-write leaves the previous
state (the half-written transaction is rolled back on the next open), and several readers can work
on one study from separate processes at once (WAL lets them read while one writes; writers queue
on a lock with a generous busy timeout). Keep the database on a local disk: WAL needs shared
memory that network file systems do not provide.

The database holds what readers may see and nothing else: opaque case ids, blinded image paths,
window/level, the questions, each reader's order, and the answers. No truth, no source paths.
Tables:

- ``meta(key, value)``: format, schema version, session uid, study id, title, questions (JSON)...
- ``cases(case_id, image, window, level)`` stored ``WITHOUT ROWID``: rows live in opaque-id order,
  so not even the physical row order follows the study file.
- ``readers(reader_id, seed, case_order, created_at)``: the recorded per-reader order (JSON list).
- ``answers``: the current answer of each reader to each case (primary key: reader, case).
- ``answer_log``: every answer ever given, revisions included, in order (audit trail).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from medsynth.reading.errors import SessionError

SESSION_FORMAT = "medsynth-reading-session"
SCHEMA_VERSION = 1
SESSION_DB_NAME = "session.sqlite"
#: How long a writer waits for another process's write lock before giving up (seconds).
BUSY_TIMEOUT_S = 60.0

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    image TEXT NOT NULL,
    window REAL,
    level REAL
) WITHOUT ROWID;
CREATE TABLE readers (
    reader_id TEXT PRIMARY KEY,
    seed INTEGER NOT NULL,
    case_order TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE answers (
    reader_id TEXT NOT NULL REFERENCES readers(reader_id),
    case_id TEXT NOT NULL REFERENCES cases(case_id),
    position INTEGER NOT NULL,
    answers TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    duration_s REAL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (reader_id, case_id)
) WITHOUT ROWID;
CREATE TABLE answer_log (
    log_id INTEGER PRIMARY KEY AUTOINCREMENT,
    reader_id TEXT NOT NULL REFERENCES readers(reader_id),
    case_id TEXT NOT NULL REFERENCES cases(case_id),
    position INTEGER NOT NULL,
    answers TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    duration_s REAL,
    revision INTEGER NOT NULL,
    UNIQUE (reader_id, case_id, revision)
);
"""


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    image: str
    window: float | None
    level: float | None


@dataclass(frozen=True)
class ReaderRow:
    reader_id: str
    seed: int
    case_order: tuple[str, ...]
    created_at: str


@dataclass(frozen=True)
class AnswerRecord:
    """One stored answer: ``answers`` maps question id -> normalised answer."""

    reader_id: str
    case_id: str
    position: int
    answers: dict[str, Any]
    answered_at: str
    duration_s: float | None
    revision: int


def utc_now() -> str:
    """Current UTC time as ISO 8601 with milliseconds and a 'Z'."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def resolve_database(session: str | os.PathLike) -> Path:
    """The database file of a session given as its folder or as the ``.sqlite`` file itself."""
    path = Path(session)
    if path.is_dir():
        path = path / SESSION_DB_NAME
    if not path.is_file():
        raise SessionError(f"No reading session at {session}: {path} does not exist. Give the session "
                           "folder made by `medsynth reading create`.")
    return path


def connect(path: str | os.PathLike, *, create: bool = False) -> sqlite3.Connection:
    """Open a session database (autocommit; transactions are explicit) with WAL and full sync."""
    path = Path(path)
    if not create and not path.is_file():
        raise SessionError(f"Session database {path} does not exist.")
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if create:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                conn.close()
                raise SessionError(f"Cannot use WAL mode for {path} (got {mode}); put the session on a local disk.")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise SessionError(f"Cannot open session database {path}: {exc}. Is it a MedSynth session?") from None
    return conn


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: take the write lock first, so concurrent writers queue
    instead of failing half-way; roll back if the block raises."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise SessionError(f"The session database is busy ({exc}); another program holds it locked. "
                           "Try again; if it persists, close other MedSynth windows on this session.") from None
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def create_schema(conn: sqlite3.Connection, meta: Mapping[str, str]) -> None:
    """Create the tables and write ``meta`` (plus format and schema version) in one transaction."""
    with write_transaction(conn):
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        rows = {"format": SESSION_FORMAT, "schema_version": str(SCHEMA_VERSION), **meta}
        conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", sorted(rows.items()))


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The meta table; raises :class:`SessionError` if this is not a session of a known version."""
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise SessionError(f"Not a MedSynth reading session database ({exc}).") from None
    if meta.get("format") != SESSION_FORMAT:
        raise SessionError("Not a MedSynth reading session database (format mark missing).")
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        raise SessionError(f"Session schema version {meta.get('schema_version')} is not supported by this "
                           f"MedSynth (it reads {SCHEMA_VERSION}); update MedSynth.")
    return meta


def insert_cases(conn: sqlite3.Connection, cases: Sequence[CaseRow]) -> None:
    with write_transaction(conn):
        conn.executemany("INSERT INTO cases(case_id, image, window, level) VALUES (?, ?, ?, ?)",
                         [(c.case_id, c.image, c.window, c.level) for c in sorted(cases, key=lambda c: c.case_id)])


def insert_reader(conn: sqlite3.Connection, reader: ReaderRow) -> bool:
    """Add a reader and their order; ``False`` if the reader already exists (left unchanged)."""
    with write_transaction(conn):
        cursor = conn.execute(
            "INSERT OR IGNORE INTO readers(reader_id, seed, case_order, created_at) VALUES (?, ?, ?, ?)",
            (reader.reader_id, reader.seed, json.dumps(list(reader.case_order)), reader.created_at))
        return cursor.rowcount == 1


def read_cases(conn: sqlite3.Connection) -> dict[str, CaseRow]:
    return {row[0]: CaseRow(*row) for row in conn.execute("SELECT case_id, image, window, level FROM cases")}


def read_reader(conn: sqlite3.Connection, reader_id: str) -> ReaderRow | None:
    row = conn.execute("SELECT reader_id, seed, case_order, created_at FROM readers WHERE reader_id = ?",
                       (reader_id,)).fetchone()
    return None if row is None else ReaderRow(row[0], row[1], tuple(json.loads(row[2])), row[3])


def read_readers(conn: sqlite3.Connection) -> list[ReaderRow]:
    rows = conn.execute("SELECT reader_id, seed, case_order, created_at FROM readers ORDER BY reader_id")
    return [ReaderRow(r[0], r[1], tuple(json.loads(r[2])), r[3]) for r in rows]


def answered_case_ids(conn: sqlite3.Connection, reader_id: str) -> set[str]:
    return {row[0] for row in conn.execute("SELECT case_id FROM answers WHERE reader_id = ?", (reader_id,))}


def read_answer(conn: sqlite3.Connection, reader_id: str, case_id: str) -> AnswerRecord | None:
    row = conn.execute(f"SELECT {_ANSWER_COLUMNS} FROM answers WHERE reader_id = ? AND case_id = ?",
                       (reader_id, case_id)).fetchone()
    return None if row is None else _record(row)


def read_answers(conn: sqlite3.Connection, *, history: bool = False) -> list[AnswerRecord]:
    """Current answers (or, with ``history``, every answer in the order given)."""
    if history:
        query = f"SELECT {_ANSWER_COLUMNS} FROM answer_log ORDER BY log_id"
    else:
        query = f"SELECT {_ANSWER_COLUMNS} FROM answers ORDER BY reader_id, position"
    return [_record(row) for row in conn.execute(query)]


def save_answer(conn: sqlite3.Connection, reader_id: str, case_id: str, position: int,
                answers: Mapping[str, Any], duration_s: float | None, *, allow_revision: bool) -> AnswerRecord:
    """Store one answer atomically (log + current) and return it.

    Raises :class:`SessionError` when the case was answered before and ``allow_revision`` is false;
    the check and the write happen under the same lock, so two processes cannot both "answer first".
    """
    with write_transaction(conn):
        row = conn.execute("SELECT revision FROM answers WHERE reader_id = ? AND case_id = ?",
                           (reader_id, case_id)).fetchone()
        if row is not None and not allow_revision:
            raise SessionError(f"Case {case_id} is already answered and this study does not allow changing "
                               "answers.")
        record = AnswerRecord(reader_id, case_id, position, dict(answers), utc_now(), duration_s,
                              1 if row is None else row[0] + 1)
        values = (record.reader_id, record.case_id, record.position,
                  json.dumps(record.answers, sort_keys=True), record.answered_at, record.duration_s,
                  record.revision)
        conn.execute(f"INSERT INTO answer_log({_ANSWER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", values)
        conn.execute(f"INSERT OR REPLACE INTO answers({_ANSWER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", values)
    return record


_ANSWER_COLUMNS = "reader_id, case_id, position, answers, answered_at, duration_s, revision"


def _record(row: Sequence[Any]) -> AnswerRecord:
    return AnswerRecord(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6])

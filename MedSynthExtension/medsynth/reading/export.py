"""Export answers to CSV or JSON (atomically), blinded or joined with the truth.

Without a key the export is as blind as the session itself (opaque ids only) and may be shared
with readers; with the key each row gains the source case id, truth, generator, pair and
whether the call was correct. ``history=True`` exports every answer given, revisions included,
instead of each reader's current answer.

CSV columns: study_id, reader_id, case_id, position (1-based in the reader's order),
answered_at (UTC), duration_s, revision, then per question: ``<id>`` and ``<id>_confidence`` for
real/synthetic, ``<id>`` for Likert and free text, ``<id>`` (JSON list of LPS points in mm) and
``<id>_count`` for point marks.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from medsynth.io.atomic import write_text_atomic
from medsynth.reading import database as db
from medsynth.reading.errors import SessionError
from medsynth.reading.key import default_key_path, read_key
from medsynth.reading.questions import POINT_MARKS, REAL_OR_SYNTHETIC, question_from_dict

EXPORT_FORMATS = ("csv", "json")


def answer_table(session: str | os.PathLike, *, key_path: str | os.PathLike | None = None,
                 with_truth: bool = False, history: bool = False) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and one flat row per answer (see module docstring)."""
    database = db.resolve_database(session)
    conn = db.connect(database)
    try:
        meta = db.read_meta(conn)
        records = db.read_answers(conn, history=history)
    finally:
        conn.close()
    questions = [question_from_dict(q) for q in json.loads(meta["questions"])]
    key = read_key(key_path or default_key_path(database.parent), meta["session_uid"]) if with_truth else None

    columns = ["study_id", "reader_id", "case_id", "position", "answered_at", "duration_s", "revision"]
    if key:
        columns += ["source_case_id", "truth", "generator", "pair", "correct"]
    for q in questions:
        columns.append(q.question_id)
        if q.kind == REAL_OR_SYNTHETIC:
            columns.append(f"{q.question_id}_confidence")
        elif q.kind == POINT_MARKS:
            columns.append(f"{q.question_id}_count")
    choice = next((q.question_id for q in questions if q.kind == REAL_OR_SYNTHETIC), None)

    rows = []
    for record in records:
        row: dict[str, Any] = {"study_id": meta.get("study_id", ""), "reader_id": record.reader_id,
                               "case_id": record.case_id, "position": record.position + 1,
                               "answered_at": record.answered_at, "duration_s": record.duration_s,
                               "revision": record.revision}
        if key:
            entry = key.entries.get(record.case_id)
            if entry is None:
                raise SessionError(f"Case {record.case_id} is not in the truth key; is it this session's key?")
            call = record.answers.get(choice, {}).get("choice") if choice else None
            row.update(source_case_id=entry.source_case_id, truth=entry.truth, generator=entry.generator,
                       pair=entry.pair, correct=None if call is None else call == entry.truth)
        for q in questions:
            value = record.answers.get(q.question_id)
            if q.kind == REAL_OR_SYNTHETIC:
                row[q.question_id] = value["choice"] if value else None
                row[f"{q.question_id}_confidence"] = value.get("confidence") if value else None
            elif q.kind == POINT_MARKS:
                row[q.question_id] = value
                row[f"{q.question_id}_count"] = len(value) if value else 0
            else:
                row[q.question_id] = value
        rows.append(row)
    return columns, rows


def export_answers(session: str | os.PathLike, destination: str | os.PathLike, *,
                   key_path: str | os.PathLike | None = None, with_truth: bool = False,
                   history: bool = False, fmt: str | None = None) -> Path:
    """Write the answers to ``destination`` (``.csv`` or ``.json``, or ``fmt``); returns the path."""
    destination = Path(destination)
    fmt = (fmt or destination.suffix.lstrip(".")).lower()
    if fmt not in EXPORT_FORMATS:
        raise SessionError(f"Cannot export to {destination}: use a .csv or .json file name.")
    columns, rows = answer_table(session, key_path=key_path, with_truth=with_truth, history=history)
    if fmt == "json":
        database = db.resolve_database(session)
        conn = db.connect(database)
        try:
            meta = db.read_meta(conn)
            readers = [{"reader_id": r.reader_id, "seed": r.seed, "order": list(r.case_order)}
                       for r in db.read_readers(conn)]
        finally:
            conn.close()
        document = {"study_id": meta.get("study_id", ""), "session_uid": meta.get("session_uid"),
                    "exported_at": db.utc_now(), "with_truth": with_truth, "history": history,
                    "questions": json.loads(meta["questions"]), "readers": readers,
                    "columns": columns, "answers": rows}
        return write_text_atomic(destination, json.dumps(document, indent=2) + "\n")
    return write_text_atomic(destination, answers_csv(columns, rows))


def answers_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """The rows of :func:`answer_table` as CSV text (what ``export`` writes and the lead dashboard serves)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value

"""Turn a validated study into a session folder (what readers get) and a truth key (what they don't).

Layout::

    <session>/session.sqlite                 blinded cases, questions, orders, answers (no truth)
    <session>/images/case-<hex>.nii          blinded images (pixels + geometry, int16)
    <session>/orders/<reader>.json           each reader's recorded order and seed (opaque ids)
    <session>.truth-key.json                 beside the folder: truth, generators, source paths

The folder is assembled under a temporary name and renamed into place only when complete, so a
crash while building never leaves something that looks like a usable session.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from medsynth.io.atomic import write_text_atomic
from medsynth.reading import database as db
from medsynth.reading.blinding import (assign_opaque_ids, blinded_image_name, equalise_mtimes,
                                       outside_domain_stamp, write_blinded_image)
from medsynth.reading.errors import SessionError, StudyError
from medsynth.reading.key import KeyEntry, TruthKey, default_key_path, read_key, write_key
from medsynth.reading.order import reader_order, reader_seed
from medsynth.reading.study import READER_ID_PATTERN, Study

IMAGES_DIR = "images"
ORDERS_DIR = "orders"


@dataclass(frozen=True)
class BuiltSession:
    """Where a freshly built session and its key are."""

    session_dir: Path
    database: Path
    key_path: Path
    n_cases: int
    reader_ids: tuple[str, ...]
    seed: int


def build_session(study: Study, session_dir: str | os.PathLike, *, key_path: str | os.PathLike | None = None,
                  progress: Callable[[float], None] | None = None) -> BuiltSession:
    """Blind the study's images, create the session database with every listed reader's order,
    and write the truth key. Refuses to overwrite an existing session or key.

    ``progress`` is called with the fraction done (0–1) while images are written.
    """
    session_dir = Path(os.path.abspath(session_dir))
    key_path = Path(os.path.abspath(key_path)) if key_path else default_key_path(session_dir)
    if session_dir.exists() and (not session_dir.is_dir() or any(session_dir.iterdir())):
        raise SessionError(f"{session_dir} already exists and is not empty; choose a new session folder "
                           "(an existing session's answers are never overwritten).")
    if key_path.exists():
        raise SessionError(f"Truth key {key_path} already exists; move it away or choose another session name.")
    if key_path.is_relative_to(session_dir):
        raise SessionError("The truth key must not be inside the session folder that readers get; "
                           "choose a key path outside it.")
    seed = study.seed if study.seed is not None else secrets.randbelow(2**62)
    salt, opaque_of = assign_opaque_ids(c.case_id for c in study.cases)
    by_opaque = {opaque_of[c.case_id]: c for c in study.cases}

    session_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{session_dir.name}.building-", dir=session_dir.parent))
    try:
        (work / IMAGES_DIR).mkdir()
        written = []
        # Written in opaque-id order (random with respect to the truth).
        for index, opaque in enumerate(sorted(by_opaque)):
            written.append(write_blinded_image(by_opaque[opaque].image, work / IMAGES_DIR / blinded_image_name(opaque)))
            if progress:
                progress((index + 1) / len(by_opaque))
        equalise_mtimes(written, time.time())

        session_uid = uuid.uuid4().hex
        conn = db.connect(work / db.SESSION_DB_NAME, create=True)
        try:
            db.create_schema(conn, {
                "session_uid": session_uid, "study_id": study.study_id, "title": study.title,
                "instructions": study.instructions, "allow_revisit": json.dumps(study.allow_revisit),
                "questions": json.dumps([q.to_dict() for q in study.questions]),
                "created_at": db.utc_now()})
            rows = []
            for opaque, case in by_opaque.items():
                wl = study.window_level_of(case)
                rows.append(db.CaseRow(opaque, f"{IMAGES_DIR}/{blinded_image_name(opaque)}",
                                       wl.window if wl else None, wl.level if wl else None))
            db.insert_cases(conn, rows)
            pair_of = {opaque: case.pair for opaque, case in by_opaque.items()}
            for reader in study.readers:
                _add_reader(conn, work, reader.reader_id, seed, pair_of)
        finally:
            conn.close()

        entries = {opaque: KeyEntry(opaque, case.case_id, str(case.image), case.truth, case.generator, case.pair,
                                    outside_domain_stamp(case.image) if case.generator else None)
                   for opaque, case in by_opaque.items()}
        write_key(TruthKey(session_uid, salt, seed, study, entries), key_path)
        try:
            if session_dir.exists():
                session_dir.rmdir()  # empty, checked above
            os.replace(work, session_dir)
        except OSError:
            key_path.unlink(missing_ok=True)
            raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BuiltSession(session_dir, session_dir / db.SESSION_DB_NAME, key_path, len(by_opaque),
                        tuple(r.reader_id for r in study.readers), seed)


def add_reader(session: str | os.PathLike, reader_id: str, key_path: str | os.PathLike | None = None) -> tuple[str, ...]:
    """Give a new reader their own order in an existing session; returns that order.

    Needs the truth key because orders keep the members of a real/synthetic pair apart and the
    pairs are part of the truth. Adding a reader who already exists changes nothing.
    """
    if not isinstance(reader_id, str) or not READER_ID_PATTERN.match(reader_id):
        raise StudyError(f"Reader id {reader_id!r} must be 1-64 letters, digits, '.', '_' or '-'.")
    database = db.resolve_database(session)
    conn = db.connect(database)
    try:
        meta = db.read_meta(conn)
        existing = db.read_reader(conn, reader_id)
        if existing is not None:
            return existing.case_order
        key = read_key(key_path or default_key_path(database.parent), meta["session_uid"])
        pair_of = {opaque: entry.pair for opaque, entry in key.entries.items()}
        return _add_reader(conn, database.parent, reader_id, key.seed, pair_of)
    finally:
        conn.close()


def _add_reader(conn, session_dir: Path, reader_id: str, study_seed: int, pair_of: dict[str, str | None]) -> tuple[str, ...]:
    seed = reader_seed(study_seed, reader_id)
    order = tuple(reader_order(list(pair_of), seed, pair_of))
    db.insert_reader(conn, db.ReaderRow(reader_id, seed, order, db.utc_now()))
    stored = db.read_reader(conn, reader_id)
    write_text_atomic(session_dir / ORDERS_DIR / f"{reader_id}.json",
                      json.dumps({"reader_id": reader_id, "seed": stored.seed,
                                  "order": list(stored.case_order)}, indent=2) + "\n")
    return stored.case_order

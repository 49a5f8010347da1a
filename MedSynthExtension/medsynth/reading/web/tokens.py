"""Personal links: random secret tokens, stored only as SHA-256 hashes in the session database.

A token names either one reader (sees only their own cases and answers) or the study lead
(dashboard: progress per reader). Knowing the database gives no token back.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass

from medsynth.reading import database as db
from medsynth.reading.errors import SessionError

LEAD = "lead"
READER = "reader"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS web_tokens (token_hash TEXT PRIMARY KEY, role TEXT NOT NULL, "
           "reader_id TEXT, created_at TEXT NOT NULL)")


@dataclass(frozen=True)
class Grant:
    """What a token allows: ``role`` LEAD or READER (then ``reader_id`` is set)."""

    role: str
    reader_id: str | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: str | os.PathLike, reader_id: str | None) -> str:
    """A new secret token for ``reader_id`` (None: the lead). Returns the token; only its hash is kept."""
    conn = db.connect(db.resolve_database(session))
    try:
        if reader_id is not None and db.read_reader(conn, reader_id) is None:
            raise SessionError(f"Reader {reader_id!r} is not in this session; add them first "
                               "(medsynth reading add-reader).")
        token = secrets.token_urlsafe(32)
        with db.write_transaction(conn):
            conn.execute(_SCHEMA)
            conn.execute("INSERT INTO web_tokens VALUES (?, ?, ?, ?)",
                         (token_hash(token), READER if reader_id else LEAD, reader_id, db.utc_now()))
        return token
    finally:
        conn.close()


def lookup(conn, token: str) -> Grant | None:
    """The grant of ``token``, or None (unknown, or no token ever issued in this session)."""
    if not token or len(token) > 100:
        return None
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'web_tokens'").fetchone()
    if not exists:
        return None
    row = conn.execute("SELECT role, reader_id FROM web_tokens WHERE token_hash = ?", (token_hash(token),)).fetchone()
    return None if row is None else Grant(row[0], row[1])

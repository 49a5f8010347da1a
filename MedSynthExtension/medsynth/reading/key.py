"""The truth key: which opaque case is real or synthetic, made by which generator, from which file.

It is written beside the session folder, never inside it (``<session>.truth-key.json``), so the
folder handed to readers holds no truth. Reader mode never opens it; only building, adding a
reader (to keep pairs apart) and analysis do. It also holds the full study definition and the
secret salt of the opaque ids, and carries the session's uid so a key cannot be used with
another session by mistake.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from medsynth.io.atomic import write_text_atomic
from medsynth.reading.errors import SessionError, StudyError
from medsynth.reading.study import Study, parse_study, study_to_dict

KEY_FORMAT = "medsynth-reading-truth-key"
KEY_VERSION = 1
KEY_SUFFIX = ".truth-key.json"


@dataclass(frozen=True)
class KeyEntry:
    """The truth of one opaque case."""

    case_id: str
    source_case_id: str
    source_image: str
    truth: str
    generator: str | None
    pair: str | None
    #: The synthetic image's "outside the validated domain: …" stamp (from its metadata), if it has one;
    #: kept in the key, never shown to readers (it would unblind the case).
    outside_domain: str | None = None


@dataclass(frozen=True)
class TruthKey:
    session_uid: str
    salt: str
    seed: int
    study: Study
    entries: Mapping[str, KeyEntry]


def default_key_path(session_dir: str | os.PathLike) -> Path:
    """``<parent>/<session folder name>.truth-key.json``: beside the session, not inside it."""
    session_dir = Path(os.path.abspath(session_dir))
    if session_dir.suffix == ".sqlite":
        session_dir = session_dir.parent
    return session_dir.parent / (session_dir.name + KEY_SUFFIX)


def write_key(key: TruthKey, path: str | os.PathLike) -> Path:
    """Write the key atomically as JSON."""
    data = {
        "format": KEY_FORMAT, "version": KEY_VERSION, "session_uid": key.session_uid,
        "salt": key.salt, "seed": key.seed, "study": study_to_dict(key.study),
        "cases": {opaque: {"source_case_id": e.source_case_id, "source_image": e.source_image,
                           "truth": e.truth, "generator": e.generator, "pair": e.pair,
                           **({"outside_domain": e.outside_domain} if e.outside_domain else {})}
                  for opaque, e in sorted(key.entries.items())},
    }
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def read_key(path: str | os.PathLike, expected_session_uid: str | None = None) -> TruthKey:
    """Read a truth key; with ``expected_session_uid``, refuse a key of another session."""
    path = Path(path)
    if not path.is_file():
        raise SessionError(f"Truth key not found: {path}. Give it with --key (it was written beside the "
                           "session folder when the session was created).")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SessionError(f"Truth key {path} is damaged ({exc}).") from None
    if not isinstance(data, Mapping) or data.get("format") != KEY_FORMAT:
        raise SessionError(f"{path} is not a MedSynth truth key.")
    if data.get("version") != KEY_VERSION:
        raise SessionError(f"Truth key {path} has version {data.get('version')}; this MedSynth reads {KEY_VERSION}.")
    if expected_session_uid is not None and data.get("session_uid") != expected_session_uid:
        raise SessionError(f"Truth key {path} belongs to another session (uid {data.get('session_uid')}, "
                           f"session has {expected_session_uid}); give the key made with this session.")
    try:
        study = parse_study(data["study"], source=f"{path} (study)", check_images=False)
        entries = {opaque: KeyEntry(opaque, e["source_case_id"], e["source_image"], e["truth"],
                                    e.get("generator"), e.get("pair"), e.get("outside_domain"))
                   for opaque, e in data["cases"].items()}
        return TruthKey(str(data["session_uid"]), str(data["salt"]), int(data["seed"]), study, entries)
    except (KeyError, TypeError, AttributeError, StudyError) as exc:
        raise SessionError(f"Truth key {path} is incomplete or damaged ({exc}).") from None


def key_summary(key: TruthKey) -> dict[str, Any]:
    """Counts for messages: cases by truth and by generator."""
    truths: dict[str, int] = {}
    generators: dict[str, int] = {}
    for entry in key.entries.values():
        truths[entry.truth] = truths.get(entry.truth, 0) + 1
        if entry.generator:
            generators[entry.generator] = generators.get(entry.generator, 0) + 1
    return {"cases": len(key.entries), "truth": truths, "generators": generators}

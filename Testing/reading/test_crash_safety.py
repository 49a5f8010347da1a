"""Crash safety and concurrency with real processes: ``kill -9`` mid-session, two readers at once."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medsynth.reading import ReadingSession, build_session, load_study
from reader_child import expected_answers
from reading_helpers import tiny_study_dict, write_study

CHILD = Path(__file__).with_name("reader_child.py")
#: Rounds killed with SIGKILL before a final round runs to the end.
KILLS = 10
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")


def _spawn(session_dir: Path, reader: str, seed: int, max_sleep_s: float, wait: bool = False) -> subprocess.Popen:
    command = [sys.executable, str(CHILD), str(session_dir), reader, str(seed), str(max_sleep_s)]
    return subprocess.Popen(command + (["wait"] if wait else []), stdin=subprocess.PIPE if wait else None,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(child: subprocess.Popen, timeout_s: float = 60) -> tuple[str, str]:
    """Rest of stdout (through the same buffered file object that readline() used, so nothing it
    already buffered is lost; ``communicate`` would read the raw pipe), stderr, and wait."""
    if child.stdin:
        child.stdin.close()
    output = child.stdout.read()
    errors = child.stderr.read()
    child.wait(timeout=timeout_s)
    return output, errors


def _stored(database: Path, reader: str) -> tuple[dict[str, dict], list[tuple[str, int]], str]:
    """(current answers by case, log rows (case, position) in order, integrity check) for a reader."""
    conn = sqlite3.connect(database)
    try:
        current = {case: json.loads(answers) for case, answers in
                   conn.execute("SELECT case_id, answers FROM answers WHERE reader_id = ?", (reader,))}
        log = conn.execute("SELECT case_id, position FROM answer_log WHERE reader_id = ? ORDER BY log_id",
                           (reader,)).fetchall()
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return current, log, integrity


def _parse(output: str) -> tuple[str | None, list[str], list[str], bool]:
    ready, begun, acked, done = None, [], [], False
    for line in output.splitlines():
        word, _, value = line.partition(" ")
        if word == "READY":
            ready = value
        elif word == "BEGIN":
            begun.append(value)
        elif word == "ACK":
            acked.append(value)
        elif word == "DONE":
            done = True
    return ready, begun, acked, done


def test_kill_9_at_random_points_loses_and_duplicates_nothing(tmp_path):
    study = load_study(write_study(tmp_path, tiny_study_dict(tmp_path, n_real=40, n_synthetic=40, readers=["r1"])))
    built = build_session(study, tmp_path / "session")
    with ReadingSession.open(built.session_dir, "r1") as session:
        order = list(session.order)
    rng = random.Random(20261125)
    acknowledged: set[str] = set()
    kills_mid_session = 0
    finished = False
    for round_number in range(60):
        before, _, _ = _stored(built.database, "r1")
        expected_first = next((c for c in order if c not in before), "NONE")
        child = _spawn(built.session_dir, "r1", round_number, 0.003)
        kill = kills_mid_session < KILLS
        first_line = ""
        if kill:
            if round_number % 4 == 3:
                time.sleep(rng.uniform(0, 0.05))           # anywhere, start-up and opening included
            else:
                first_line = child.stdout.readline()
                assert first_line.startswith("READY")
                time.sleep(rng.uniform(0, 0.03))           # somewhere among the answers
            os.kill(child.pid, signal.SIGKILL)
        output, errors = _finish(child)
        if not kill:
            assert child.returncode == 0, errors
        ready, begun, acked, done = _parse(first_line + output)
        if ready is not None:
            assert ready == expected_first, "resume did not continue at the first unanswered case"
        if kill and not done:
            assert child.returncode == -signal.SIGKILL
            kills_mid_session += 1

        after, log, integrity = _stored(built.database, "r1")
        assert integrity == "ok"
        acknowledged |= set(acked)
        assert acknowledged <= set(after), "an acknowledged answer was lost"
        unacknowledged = set(after) - before.keys() - set(acked)
        in_flight = {begun[-1]} if begun and begun[-1] not in acked else set()
        assert unacknowledged <= in_flight, "an answer appeared that was never being given"
        acknowledged |= unacknowledged  # committed just before the kill, before its ACK was printed
        assert len(log) == len(after) == len({case for case, _ in log}), "an answer was duplicated"
        for case, answers in after.items():
            assert answers == expected_answers("r1", case)
        if done:
            finished = True
            break
    assert kills_mid_session >= 6, "too few rounds were killed before finishing"
    assert finished
    after, log, _ = _stored(built.database, "r1")
    assert set(after) == set(order)
    assert [case for case, _ in log] == order, "answers were not given in the reader's order, once each"
    assert [position for _, position in log] == list(range(len(order)))


def test_two_readers_at_once_do_not_corrupt_each_other(tmp_path):
    study = load_study(write_study(tmp_path, tiny_study_dict(tmp_path, n_real=40, n_synthetic=40,
                                                             readers=["r1", "r2"])))
    built = build_session(study, tmp_path / "session")
    children = {reader: _spawn(built.session_dir, reader, seed, 0.002, wait=True)
                for seed, reader in enumerate(("r1", "r2"))}
    first_lines = {reader: child.stdout.readline() for reader, child in children.items()}
    for child in children.values():  # start barrier: both are open and waiting; now go
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = {}
    for reader, child in children.items():
        output, errors = _finish(child, 120)
        assert child.returncode == 0, errors
        outputs[reader] = _parse(first_lines[reader] + output)
    conn = sqlite3.connect(built.database)
    try:
        sequence = [r for (r,) in conn.execute("SELECT reader_id FROM answer_log ORDER BY log_id")]
    finally:
        conn.close()
    switches = sum(a != b for a, b in zip(sequence, sequence[1:]))
    for reader in ("r1", "r2"):
        ready, begun, acked, done = outputs[reader]
        assert done and len(acked) == 80
        current, log, integrity = _stored(built.database, reader)
        assert integrity == "ok"
        assert len(current) == len(log) == 80
        with ReadingSession.open(built.session_dir, reader) as session:
            assert [case for case, _ in log] == list(session.order)
            assert session.progress() == (80, 80)
        for case, answers in current.items():
            assert answers == expected_answers(reader, case)
    # one switch would be "all of r1, then all of r2"; two or more means their answers interleaved
    assert switches >= 2, f"the two readers did not overlap ({switches} switch)"

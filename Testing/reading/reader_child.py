"""A reader in a separate process, for the crash-safety and concurrency tests.

Usage: python reader_child.py SESSION_DIR READER_ID SEED MAX_SLEEP_S [wait]

Prints ``READY <first case or NONE>`` after opening the session (where it resumes), then for each
case ``BEGIN <id>`` before answering and ``ACK <id>`` only after ``answer()`` has returned (the
transaction is committed), and ``DONE`` when every case is answered. Answers are a deterministic
function of reader and case (:func:`expected_answers`), so the parent can check each stored one.
With ``wait`` it reads one line from stdin after READY before answering (a start barrier, so
that several readers really answer at the same time).
"""

from __future__ import annotations

import hashlib
import random
import sys
import time


def expected_answers(reader_id: str, case_id: str) -> dict:
    digest = hashlib.sha256(f"{reader_id}/{case_id}".encode()).digest()
    return {"call": {"choice": "synthetic" if digest[0] % 2 else "real", "confidence": 1 + digest[1] % 5},
            "realism": 1 + digest[2] % 5, "comments": f"{reader_id} on {case_id}"}


def main(session_dir: str, reader_id: str, seed: str, max_sleep_s: str, wait: str = "") -> int:
    from medsynth.reading.session import ReadingSession

    rng = random.Random(int(seed))
    pause = float(max_sleep_s)
    with ReadingSession.open(session_dir, reader_id) as session:
        view = session.next_case()
        print(f"READY {view.case_id if view else 'NONE'}", flush=True)
        if wait == "wait":
            sys.stdin.readline()
        while view is not None:
            print(f"BEGIN {view.case_id}", flush=True)
            session.answer(view.case_id, expected_answers(reader_id, view.case_id))
            print(f"ACK {view.case_id}", flush=True)
            if pause:
                time.sleep(rng.uniform(0, pause))
            view = session.next_case()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))

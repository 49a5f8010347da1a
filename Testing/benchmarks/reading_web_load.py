"""Load test of the web reader on loopback: 20 simulated readers answering concurrently.

Builds a session of tiny images with 20 readers, starts ``medsynth reading serve``, and has each
reader (one thread each) fetch its case and POST an answer until done. Prints p50/p95 answer
latency and checks no answer was lost or duplicated. Usage: python Testing/benchmarks/reading_web_load.py
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reading"))

from reading_helpers import tiny_study_dict, write_study  # noqa: E402
from web_helpers import Server, invite, request  # noqa: E402

from medsynth.reading import build_session, load_study  # noqa: E402

N_READERS = 20
ANSWER = {"call": {"choice": "real", "confidence": 2}, "realism": 3}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        readers = [f"r{i:02d}" for i in range(N_READERS)]
        built = build_session(load_study(write_study(root, tiny_study_dict(root, 5, 5, readers=readers))), root / "s")
        tokens = {r: invite(built.session_dir, r) for r in readers}
        server = Server(built.session_dir).start()
        latencies: list[float] = []
        acknowledged: list[tuple[str, str]] = []
        lock = threading.Lock()

        def read(reader: str) -> None:
            while True:
                case = json.loads(request(f"{server.base}/api/{tokens[reader]}/case")[2])
                if case["done"]:
                    return
                start = time.perf_counter()
                status, _, _ = request(f"{server.base}/api/{tokens[reader]}/answer",
                                       {"case_id": case["case_id"], "answers": ANSWER})
                with lock:
                    latencies.append(time.perf_counter() - start)
                    if status == 200:
                        acknowledged.append((reader, case["case_id"]))

        try:
            threads = [threading.Thread(target=read, args=(r,)) for r in readers]
            wall = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - wall
        finally:
            server.stop()
        rows = sqlite3.connect(built.database).execute("SELECT reader_id, case_id FROM answers").fetchall()
        lost = set(acknowledged) - set(rows)
        duplicated = len(rows) - len(set(rows))
        latencies.sort()
        p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
        print(f"{N_READERS} readers, {len(acknowledged)} answers acknowledged, {len(rows)} stored, "
              f"lost {len(lost)}, duplicated {duplicated}; answer latency p50 {p50 * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms; wall {wall:.1f} s")
        return 0 if not lost and not duplicated and len(rows) == N_READERS * 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())

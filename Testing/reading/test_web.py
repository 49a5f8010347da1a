"""The web reader through a real ``medsynth reading serve`` process over HTTP on loopback."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

pytest.importorskip("starlette", reason="the web reader needs the 'web' extra (starlette, uvicorn)")

from medsynth.reading import read_key  # noqa: E402
from medsynth.reading.create import image_stem  # noqa: E402
from web_helpers import Server, invite, request  # noqa: E402

ANSWER = {"call": {"choice": "synthetic", "confidence": 4}, "realism": 2}


@pytest.fixture
def served(tiny_session):
    tokens = {"r1": invite(tiny_session.session_dir, "r1"), "r2": invite(tiny_session.session_dir, "r2"),
              "lead": invite(tiny_session.session_dir, None)}
    server = Server(tiny_session.session_dir).start()
    yield tiny_session, server, tokens
    server.stop()


def _case(server, token, position=None):
    status, _, body = request(f"{server.base}/api/{token}/case" + (f"?position={position}" if position else ""))
    assert status == 200, body
    return json.loads(body)


def test_tokens_are_stored_hashed(served):
    built, _, tokens = served
    stored = sqlite3.connect(built.database).execute("SELECT token_hash FROM web_tokens").fetchall()
    assert len(stored) == 3
    raw = built.database.read_bytes() + b"".join(p.read_bytes() for p in built.session_dir.glob("*-wal"))
    assert not any(t.encode() in raw for t in tokens.values())


def _answer_next(server, token) -> str:
    """Answer the reader's current case; returns its id once the server has acknowledged it."""
    case_id = _case(server, token)["case_id"]
    status, _, body = request(f"{server.base}/api/{token}/answer", {"case_id": case_id, "answers": ANSWER})
    assert status == 200 and json.loads(body)["saved"], body
    return case_id


def test_reader_answers_resume_and_isolation(served):
    built, server, tokens = served
    first = []
    for _ in range(3):
        first.append(_answer_next(server, tokens["r1"]))
        assert _case(server, tokens["r1"], len(first))["previous"] is not None
    resumed = _case(server, tokens["r1"])
    assert resumed["position"] == 4 and resumed["case_id"] not in first
    # the other reader sees none of r1's answers, even on the same cases
    for position in range(1, 7):
        other = _case(server, tokens["r2"], position) if position == 1 else None
        if other:
            assert other["previous"] is None
    order_r2 = json.loads((built.session_dir / "orders" / "r2.json").read_text())["order"]
    status, _, body = request(f"{server.base}/api/{tokens['r2']}/case?position={order_r2.index(first[0]) + 1}")
    assert status == 409 or json.loads(body)["previous"] is None  # not yet answered by r2: no revisit, or empty
    # r1 revisits and sees its own answer
    assert _case(server, tokens["r1"], 1)["previous"]["call"]["choice"] == "synthetic"


def test_paths_other_sessions_and_key_are_not_found(served, tmp_path):
    built, server, tokens = served
    case = _case(server, tokens["r1"])
    base = f"{server.base}/api/{tokens['r1']}"
    assert request(f"{base}/image/{case['case_id']}")[0] == 200
    for bad in (f"{base}/image/..%2Fsession.sqlite", f"{base}/image/../../session.sqlite",
                f"{base}/image/{built.key_path.name}", f"{server.base}/static/..%2Fapp.py",
                f"{server.base}/static/reader.html/../../app.py", f"{server.base}/r/not-a-token",
                f"{server.base}/api/not-a-token/case", f"{server.base}/lead/{tokens['r1']}",
                f"{server.base}/r/{tokens['lead']}", f"{server.base}/{built.key_path.name}",
                f"{server.base}/api/{tokens['r1']}/image/case-0000000000"):
        assert request(bad)[0] == 404, bad
    # a token of another session is unknown here
    from reading_helpers import tiny_study_dict, write_study
    from medsynth.reading import build_session, load_study

    other = build_session(load_study(write_study(tmp_path, tiny_study_dict(tmp_path / "o"), "o.json")), tmp_path / "other")
    assert request(f"{server.base}/api/{invite(other.session_dir, 'r1')}/case")[0] == 404


def test_post_is_csrf_safe(served):
    _, server, tokens = served
    case = _case(server, tokens["r1"])
    url = f"{server.base}/api/{tokens['r1']}/answer"
    body = {"case_id": case["case_id"], "answers": ANSWER}
    assert request(url, body, {"X-MedSynth": ""})[0] == 403
    assert request(url, body, {"Content-Type": "text/plain"})[0] == 403
    assert request(url, body, {"Origin": "http://evil.example"})[0] == 403
    assert _case(server, tokens["r1"])["answered"] == 0
    assert request(url, body, {"Origin": server.base})[0] == 200


def test_no_response_reveals_truth_names_or_generators(served):
    built, server, tokens = served
    key = read_key(built.key_path)
    giveaways = {e.source_case_id for e in key.entries.values()} | {image_stem(__import__("pathlib").Path(e.source_image))
                                                                     for e in key.entries.values()}
    giveaways |= {e.generator for e in key.entries.values() if e.generator} | {"real_0", "synthetic_0", "genA"}
    bodies = []
    for _ in range(6):
        status, headers, body = request(f"{server.base}/api/{tokens['r1']}/case")
        case = json.loads(body)
        bodies += [body, json.dumps(headers).encode(), request(f"{server.base}/api/{tokens['r1']}/image/{case['case_id']}")[2][:352]]
        bodies.append(request(f"{server.base}/api/{tokens['r1']}/answer", {"case_id": case["case_id"], "answers": ANSWER})[2])
    bodies += [request(f"{server.base}/r/{tokens['r1']}")[2], request(f"{server.base}/static/reader.js")[2],
               request(f"{server.base}/lead/{tokens['lead']}")[2], request(f"{server.base}/lead/{tokens['lead']}/progress.json")[2],
               request(f"{server.base}/lead/{tokens['lead']}/answers.csv")[2]]
    text = b"\n".join(bodies).decode("latin-1")
    for word in giveaways:
        assert word not in text, word
    assert '"truth"' not in text and "truth-key" not in text


def test_security_headers_and_lead_dashboard(served):
    _, server, tokens = served
    status, headers, body = request(f"{server.base}/lead/{tokens['lead']}/progress.json")
    assert status == 200
    assert {r["reader"]: r["answered"] for r in json.loads(body)["readers"]} == {"r1": 0, "r2": 0}
    lowered = {k.lower(): v for k, v in headers.items()}
    assert "default-src 'none'" in lowered["content-security-policy"]
    assert lowered["x-frame-options"] == "DENY" and lowered["referrer-policy"] == "no-referrer"
    assert lowered["x-content-type-options"] == "nosniff" and "server" not in lowered


def test_lead_exports_the_answers_without_the_truth(served):
    _, server, tokens = served
    answered = [_answer_next(server, tokens["r1"]) for _ in range(2)]
    status, headers, body = request(f"{server.base}/lead/{tokens['lead']}/answers.csv")
    assert status == 200 and "attachment" in {k.lower(): v for k, v in headers.items()}["content-disposition"]
    header, *rows = body.decode().splitlines()
    assert "reader_id" in header.split(",") and "truth" not in header and "correct" not in header
    assert sorted(row.split(",")[2] for row in rows) == sorted(answered)  # case_id column, one row per answer
    assert request(f"{server.base}/lead/{tokens['r1']}/answers.csv")[0] == 404  # a reader's token is not the lead's


def test_kill_9_loses_nothing_acknowledged(tiny_session):
    """Answers POSTed while the server is killed with SIGKILL: every acknowledged one is stored
    exactly once after a restart; the reader resumes after the last stored one."""
    token = invite(tiny_session.session_dir, "r1")
    server = Server(tiny_session.session_dir).start()
    acknowledged = []
    try:
        for index in range(4):
            case = _case(server, token)
            if index == 3:
                server.kill()  # SIGKILL before the fourth answer
                break
            status, _, _ = request(f"{server.base}/api/{token}/answer", {"case_id": case["case_id"], "answers": ANSWER})
            if status == 200:
                acknowledged.append(case["case_id"])
        restarted = Server(tiny_session.session_dir, server.port).start()
        try:
            rows = sqlite3.connect(tiny_session.database).execute(
                "SELECT case_id FROM answers WHERE reader_id = 'r1'").fetchall()
            assert sorted(r[0] for r in rows) == sorted(acknowledged)
            assert _case(restarted, token)["position"] == len(acknowledged) + 1
        finally:
            restarted.stop()
    finally:
        server.kill()


def test_answer_durations_are_checked_against_the_servers_clock(served):
    """A browser's duration_s is kept only when it is no longer than the server's own measure from
    handing out the case; otherwise (absurd, negative, not a number) the server's measure is stored,
    and after a restart while the case was on screen nothing can be checked, so none is stored."""
    built, server, tokens = served
    token, stored_claims = tokens["r1"], []
    for claim in (0.05, 1e6, -5, "abc", float("nan")):
        before = time.monotonic()
        case_id = _case(server, token)["case_id"]
        time.sleep(0.2)
        status, _, body = request(f"{server.base}/api/{token}/answer",
                                  {"case_id": case_id, "answers": ANSWER, "duration_s": claim})
        assert status == 200, body
        stored_claims.append((claim, case_id, time.monotonic() - before))
    last = _case(server, token)["case_id"]
    server.kill()
    restarted = Server(built.session_dir, server.port).start()
    try:
        status, _, body = request(f"{restarted.base}/api/{token}/answer",
                                  {"case_id": last, "answers": ANSWER, "duration_s": 3.0})
        assert status == 200, body
    finally:
        restarted.stop()
    durations = dict(sqlite3.connect(built.database).execute(
        "SELECT case_id, duration_s FROM answers WHERE reader_id = 'r1'").fetchall())
    assert durations[stored_claims[0][1]] == 0.05
    for claim, case_id, elapsed in stored_claims[1:]:
        assert 0.2 <= durations[case_id] <= elapsed, (claim, durations[case_id], elapsed)
    assert durations[last] is None

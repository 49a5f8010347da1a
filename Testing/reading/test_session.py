"""Reading sessions: orders, resume, revisiting, timing, readers, export, analysis of a session."""

from __future__ import annotations

import csv
import json
import sqlite3
import time

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.reading import (ReadingSession, SessionError, add_reader, analyze_session, build_session,
                              export_answers, load_study, read_key)
from medsynth.reading.order import adjacent_pairs
from reading_helpers import tiny_study_dict, write_study

GOOD = {"call": {"choice": "real", "confidence": 3}, "realism": 4}


def _answers(choice="real", confidence=3, realism=4, comment=None):
    answers = {"call": {"choice": choice, "confidence": confidence}, "realism": realism}
    if comment is not None:
        answers["comments"] = comment
    return answers


def test_database_is_sqlite_in_wal_mode_with_the_recorded_orders(tiny_session):
    conn = sqlite3.connect(tiny_session.database)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = dict(conn.execute("SELECT reader_id, case_order FROM readers").fetchall())
        seeds = dict(conn.execute("SELECT reader_id, seed FROM readers").fetchall())
    finally:
        conn.close()
    assert set(rows) == {"r1", "r2"}
    for reader, order_json in rows.items():
        order = json.loads(order_json)
        assert sorted(order) == sorted(read_key(tiny_session.key_path).entries)
        order_file = json.loads((tiny_session.session_dir / "orders" / f"{reader}.json").read_text())
        assert order_file == {"reader_id": reader, "seed": seeds[reader], "order": order}
    assert rows["r1"] != rows["r2"]  # each reader has their own order


def test_order_is_recomputable_from_the_truth_key(tmp_path):
    """The order derives from the study seed, the reader id and the salted opaque ids, so the
    key (seed + salt) reproduces it exactly, while the seed readers can see reveals nothing."""
    from medsynth.reading.blinding import opaque_case_id
    from medsynth.reading.order import reader_order, reader_seed

    study = load_study(write_study(tmp_path, tiny_study_dict(tmp_path, n_real=5, n_synthetic=5)))
    built = build_session(study, tmp_path / "s1")
    key = read_key(built.key_path)
    assert key.seed == study.seed == 1234
    opaque = [opaque_case_id(key.salt, case.case_id) for case in study.cases]
    assert sorted(opaque) == sorted(key.entries)
    for reader in ("r1", "r2"):
        with ReadingSession.open(built.session_dir, reader) as session:
            assert session.seed == reader_seed(1234, reader)
            assert list(session.order) == reader_order(opaque, reader_seed(1234, reader))
    # a second build draws a new salt: new opaque ids, so nothing links the two sessions' ids
    again = build_session(study, tmp_path / "s2")
    assert not set(key.entries) & set(read_key(again.key_path).entries)


def test_paired_cases_are_never_shown_back_to_back(tmp_path):
    data = tiny_study_dict(tmp_path, n_real=4, n_synthetic=4, readers=[f"r{i}" for i in range(12)])
    for i in range(4):
        data["cases"][i]["pair"] = data["cases"][4 + i]["pair"] = f"p{i}"
    built = build_session(load_study(write_study(tmp_path, data)), tmp_path / "session")
    key = read_key(built.key_path)
    pair_of = {c: e.pair for c, e in key.entries.items()}
    for reader in built.reader_ids:
        with ReadingSession.open(built.session_dir, reader) as session:
            assert adjacent_pairs(session.order, pair_of) == 0


def test_resume_continues_at_the_first_unanswered_case(tiny_session):
    with ReadingSession.open(tiny_session.session_dir, "r1") as session:
        order = session.order
        for expected in order[:2]:
            view = session.next_case()
            assert view.case_id == expected
            session.answer(view.case_id, GOOD)
        assert session.progress() == (2, 6)
    with ReadingSession.open(tiny_session.session_dir, "r1") as session:
        assert session.progress() == (2, 6)
        view = session.next_case()
        assert (view.case_id, view.position, view.total) == (order[2], 2, 6)
        assert view.previous_answers is None
    with ReadingSession.open(tiny_session.session_dir, "r2") as other:
        assert other.progress() == (0, 6)  # readers do not share progress


def test_revisiting_keeps_history_and_one_current_answer(tiny_session):
    with ReadingSession.open(tiny_session.session_dir, "r1") as session:
        first = session.next_case()
        session.answer(first.case_id, _answers("real", 2, 3))
        second = session.next_case()
        back = session.previous()
        assert back.case_id == first.case_id
        assert back.previous_answers == {"call": {"choice": "real", "confidence": 2}, "realism": 3}
        record = session.answer(back.case_id, _answers("synthetic", 5, 1))
        assert record.revision == 2
        assert session.previous() is None  # already at the first case
        assert session.next_case().case_id == second.case_id
        assert session.progress() == (1, 6)
        jumped = session.go_to(0)
        assert jumped.previous_answers["call"]["choice"] == "synthetic"
    conn = sqlite3.connect(tiny_session.database)
    try:
        assert conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 1
        assert conn.execute("SELECT revision FROM answer_log ORDER BY log_id").fetchall() == [(1,), (2,)]
    finally:
        conn.close()


def test_no_revisiting_when_the_study_forbids_it(tmp_path):
    built = build_session(load_study(write_study(tmp_path, tiny_study_dict(tmp_path, allow_revisit=False))),
                          tmp_path / "session")
    with ReadingSession.open(built.session_dir, "r1") as session:
        view = session.next_case()
        session.answer(view.case_id, GOOD)
        with pytest.raises(SessionError, match="does not allow going back"):
            session.previous()
        with pytest.raises(SessionError, match="does not allow going back"):
            session.go_to(0)
        with pytest.raises(SessionError, match="already answered"):
            session.answer(view.case_id, GOOD)
        assert session.go_to(3).position == 3  # jumping ahead to an unanswered case is fine
    conn = sqlite3.connect(built.database)
    try:
        assert conn.execute("SELECT COUNT(*) FROM answer_log").fetchone()[0] == 1
    finally:
        conn.close()


def test_time_per_case_is_recorded(tiny_session):
    with ReadingSession.open(tiny_session.session_dir, "r1") as session:
        view = session.next_case()
        time.sleep(0.12)
        record = session.answer(view.case_id, GOOD)
        assert 0.12 <= record.duration_s < 5
        # answering a case this session never showed: no made-up time
        unseen = session.order[3]
        assert session.answer(unseen, GOOD).duration_s is None


def test_unknown_reader_and_unknown_case(tiny_session):
    with pytest.raises(SessionError, match=r"Reader 'r9' is not part of this study \(readers: r1, r2\).*add-reader"):
        ReadingSession.open(tiny_session.session_dir, "r9")
    with ReadingSession.open(tiny_session.session_dir, "r1") as session:
        with pytest.raises(SessionError, match="not in this reader's session"):
            session.answer("case-0000000000", GOOD)
    with pytest.raises(SessionError, match="No reading session"):
        ReadingSession.open(tiny_session.session_dir.parent / "nothing", "r1")


def test_add_reader_needs_the_key_and_gives_a_new_order(tiny_session, tmp_path):
    order = add_reader(tiny_session.session_dir, "r3")
    with ReadingSession.open(tiny_session.session_dir, "r3") as session:
        assert session.order == order and session.progress() == (0, 6)
    assert add_reader(tiny_session.session_dir, "r3") == order  # idempotent
    tiny_session.key_path.rename(tmp_path / "hidden.json")
    with pytest.raises(SessionError, match="Truth key not found"):
        add_reader(tiny_session.session_dir, "r4")


def test_blinded_image_keeps_pixels_and_geometry(tiny_session):
    key = read_key(tiny_session.key_path)
    with ReadingSession.open(tiny_session.session_dir, "r1") as session:
        view = session.next_case()
        image = view.load_image()
    source = sitk.ReadImage(key.entries[view.case_id].source_image)
    assert image.GetPixelID() == sitk.sitkInt16
    assert image.GetSpacing() == source.GetSpacing() and image.GetOrigin() == source.GetOrigin()
    assert image.GetDirection() == source.GetDirection()
    # the one re-quantisation rule: values rounded to the nearest integer
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), np.rint(sitk.GetArrayFromImage(source)))


def test_build_refuses_to_overwrite(tiny_session, tmp_path):
    study = load_study(tmp_path / "study.json")
    with pytest.raises(SessionError, match="already exists and is not empty"):
        build_session(study, tiny_session.session_dir)
    with pytest.raises(SessionError, match="must not be inside the session folder"):
        build_session(study, tmp_path / "other", key_path=tmp_path / "other" / "key.json")


def _answer_all(built, reader, choose):
    key = read_key(built.key_path)
    with ReadingSession.open(built.session_dir, reader) as session:
        view = session.next_case()
        while view is not None:
            session.answer(view.case_id, choose(key.entries[view.case_id]))
            view = session.next_case()


def test_export_csv_blinded_and_with_truth_and_json(tiny_session, tmp_path):
    _answer_all(tiny_session, "r1", lambda e: _answers(e.truth, 4, 2, comment=f"note, with comma"))
    blinded = export_answers(tiny_session.session_dir, tmp_path / "blind.csv")
    rows = list(csv.DictReader(blinded.open()))
    assert len(rows) == 6 and "truth" not in rows[0] and "source_case_id" not in rows[0]
    assert rows[0]["comments"] == "note, with comma"
    assert [int(r["position"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    full = export_answers(tiny_session.session_dir, tmp_path / "full.csv", with_truth=True)
    truth_rows = list(csv.DictReader(full.open()))
    key = read_key(tiny_session.key_path)
    for row in truth_rows:
        assert row["truth"] == key.entries[row["case_id"]].truth == row["call"]
        assert row["correct"] == "True"
    document = json.loads(export_answers(tiny_session.session_dir, tmp_path / "all.json").read_text())
    assert len(document["answers"]) == 6 and document["with_truth"] is False
    assert {r["reader_id"] for r in document["readers"]} == {"r1", "r2"}
    with pytest.raises(SessionError, match=r"use a \.csv or \.json"):
        export_answers(tiny_session.session_dir, tmp_path / "out.xlsx")


def test_analyze_session_and_key_mismatch(tiny_session, tmp_path):
    _answer_all(tiny_session, "r1", lambda e: _answers(e.truth, 5, 3))           # always right
    _answer_all(tiny_session, "r2", lambda e: _answers("real", 1, 3))            # always "real"
    analysis = analyze_session(tiny_session.session_dir)
    by_reader = {r.reader_id: r for r in analysis.readers}
    assert by_reader["r1"].detection.accuracy.value == 1.0
    assert by_reader["r2"].detection.accuracy.value == 0.5
    assert by_reader["r2"].detection.specificity.value == 1.0 and by_reader["r2"].detection.sensitivity.value == 0.0
    assert analysis.pooled.accuracy.successes == 9 and analysis.pooled.accuracy.n == 12
    other = build_session(load_study(tmp_path / "study.json"), tmp_path / "another")
    with pytest.raises(SessionError, match="belongs to another session"):
        analyze_session(tiny_session.session_dir, other.key_path)


def test_analysis_and_reports_work_before_any_answer_and_without_a_choice_question(tmp_path):
    from medsynth.reading import format_summary, write_report

    data = tiny_study_dict(tmp_path)
    data["questions"] = [{"id": "realism", "type": "likert"}]
    data["acceptance"] = [{"type": "accuracy_not_above_chance"},
                          {"type": "threshold", "metric": "likert_mean_synthetic", "question": "realism", "min": 3}]
    built = build_session(load_study(write_study(tmp_path, data)), tmp_path / "session")
    empty = analyze_session(built.session_dir)
    assert empty.pooled is None and empty.verdict == "NOT EVALUABLE"
    assert [r.answered for r in empty.readers] == [0, 0]
    for reader, rating in (("r1", 4), ("r2", 2)):
        with ReadingSession.open(built.session_dir, reader) as session:
            for case in session.order:
                session.answer(case, {"realism": rating})
    analysis = analyze_session(built.session_dir)
    assert analysis.likert[0].by_truth["synthetic"]["mean"] == pytest.approx(3.0)
    assert [c.passed for c in analysis.criteria] == [None, True]
    assert "Verdict: NOT EVALUABLE" in format_summary(analysis)
    for name in ("r.html", "r.md"):
        written = write_report(analysis, tmp_path / name)
        assert written[0].read_text().count("realism") >= 2
    with pytest.raises(SessionError, match=r"use a \.html or \.md"):
        write_report(analysis, tmp_path / "r.pdf")

"""The Obuchowski–Rockette AUC through a real session: answers given through ReadingSession into the
SQLite file, analysed by ``medsynth reading analyze`` in a subprocess, the way a study lead runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medsynth.reading import ReadingSession, build_session, load_study, read_key
from medsynth.reading.analysis import analyze_session
from medsynth.reading.obuchowski_rockette import CAN_TELL
from reading_helpers import tiny_study_dict, write_study

READERS = ("r1", "r2", "r3")


def _session(tmp_path: Path):
    data = tiny_study_dict(tmp_path, n_real=6, n_synthetic=6, readers=READERS)
    data["acceptance"] = [{"type": "auc_below_margin", "margin": 0.6}]
    return build_session(load_study(write_study(tmp_path, data)), tmp_path / "session")


def _answer_all(built, answer_for) -> None:
    """Every reader answers every case; ``answer_for(reader, key_entry)`` gives (call, confidence)."""
    key = read_key(built.key_path)
    for reader in READERS:
        with ReadingSession.open(built.session_dir, reader) as session:
            view = session.next_case()
            while view is not None:
                call, confidence = answer_for(reader, key.entries[view.case_id])
                session.answer(view.case_id, {"call": {"choice": call, "confidence": confidence}, "realism": 3})
                view = session.next_case()


def _analyze_cli(built, tmp_path: Path) -> tuple[str, dict, str]:
    report = tmp_path / "report.html"
    summary = subprocess.run([sys.executable, "-m", "medsynth", "reading", "analyze", str(built.session_dir),
                              "--report", str(report)], capture_output=True, text=True)
    assert summary.returncode == 0, summary.stderr
    full = subprocess.run([sys.executable, "-m", "medsynth", "reading", "analyze", str(built.session_dir), "--json"],
                          capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    return summary.stdout, json.loads(full.stdout), report.read_text()


def test_perfect_readers_auc_one_and_the_criterion_fails(tmp_path):
    built = _session(tmp_path)
    _answer_all(built, lambda reader, entry: (entry.truth, 5 if entry.source_case_id.endswith("0") else 3))
    stdout, analysis, report = _analyze_cli(built, tmp_path)
    auc = analysis["reader_auc"]
    assert auc["reader_aucs"] == [1.0, 1.0, 1.0] and auc["auc"] == 1.0
    assert auc["finding"] == CAN_TELL and auc["n_real"] == 6 and auc["n_synthetic"] == 6
    assert analysis["criteria"][0]["passed"] is False and analysis["verdict"] == "FAIL"
    assert "readers can tell synthetic from real" in stdout
    assert "Reader-averaged AUC (Obuchowski–Rockette)" in report and "can tell synthetic from real" in report


def test_readers_blind_to_the_truth_cover_one_half(tmp_path):
    """Each reader answers synthetic-i exactly as real-i (the answer depends on the reader and the
    case number only), so each reader's AUC is 0.5 by construction and the interval covers it."""
    built = _session(tmp_path)

    def blind(reader: str, entry) -> tuple[str, int]:
        number = int(entry.source_case_id.rsplit("-", 1)[1])
        level = (number * (READERS.index(reader) + 2)) % 10  # 0..9 -> five confidences on either side
        return ("synthetic" if level >= 5 else "real"), 1 + level % 5

    _answer_all(built, blind)
    direct = analyze_session(built.session_dir)
    assert direct.reader_auc.reader_aucs == pytest.approx([0.5, 0.5, 0.5])
    assert direct.reader_auc.ci_low < 0.5 < direct.reader_auc.ci_high
    assert direct.reader_auc.finding != CAN_TELL
    stdout, analysis, _ = _analyze_cli(built, tmp_path)
    assert analysis["reader_auc"]["auc"] == pytest.approx(0.5)
    assert "reader-averaged AUC 0.500" in stdout


def test_without_two_cases_of_each_kind_there_is_no_interval(tmp_path):
    built = _session(tmp_path)
    key = read_key(built.key_path)
    with ReadingSession.open(built.session_dir, "r1") as session:  # r1 answers two cases only
        for _ in range(2):
            view = session.next_case()
            session.answer(view.case_id, {"call": {"choice": key.entries[view.case_id].truth, "confidence": 4},
                                          "realism": 3})
    result = analyze_session(built.session_dir)
    assert result.reader_auc is None
    assert result.criteria[0].passed is None and "fewer than two" in result.criteria[0].detail


def test_auc_criterion_is_validated_and_described():
    from medsynth.reading.errors import StudyError
    from medsynth.reading.study import parse_study

    case = [{"id": "c", "image": "x.nii.gz", "truth": "real"}]
    with pytest.raises(StudyError, match="'margin' must be a number between 0.5 and 1"):
        parse_study({"study_id": "s", "cases": case, "acceptance": [{"type": "auc_below_margin", "margin": 1.5}]},
                    check_images=False)
    study = parse_study({"study_id": "s", "cases": case, "acceptance": [{"type": "auc_below_margin"}]},
                        check_images=False)
    assert study.acceptance[0].to_dict() == {"type": "auc_below_margin", "scope": "pooled", "margin": 0.6,
                                             "confidence": 0.95}
    assert "Obuchowski–Rockette" in study.acceptance[0].describe()

"""``medsynth reading ...`` from the command line, on real T1 scans and smoothed "synthetic" ones."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from xml.etree import ElementTree

import pytest

from medsynth.cli import reading_cmd
from medsynth.errors import MedSynthError
from medsynth.reading import ReadingSession, read_key
from reader_child import expected_answers
from reading_helpers import tiny_study_dict, write_study


def run(argv: list[str]) -> int:
    """What ``medsynth.cli.main`` does, with only the reading subcommand registered (other
    subcommands belong to other modules and are tested there)."""
    parser = argparse.ArgumentParser(prog="medsynth")
    reading_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MedSynthError as exc:
        print(f"medsynth: error: {exc}", file=sys.stderr)
        return 2


@pytest.mark.parametrize("action", [None, "create", "validate", "add-reader", "progress", "export", "analyze"])
def test_help_for_every_action(action, capsys):
    with pytest.raises(SystemExit) as info:
        run(["reading"] + ([action] if action else []) + ["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: medsynth reading")
    if action == "analyze":
        assert "--json" in out and "--report" in out


def test_main_entry_point_knows_reading(capsys):
    from medsynth import cli

    assert "medsynth.cli.reading_cmd" in cli.SUBCOMMAND_MODULES
    with pytest.raises(SystemExit) as info:
        cli.main(["reading", "--help"])
    assert info.value.code == 0
    assert "analyze" in capsys.readouterr().out


def _answer_everything(session_dir, readers):
    for reader in readers:
        with ReadingSession.open(session_dir, reader) as session:
            view = session.next_case()
            while view is not None:
                session.answer(view.case_id, expected_answers(reader, view.case_id))
                view = session.next_case()


def test_create_progress_export_analyze_on_real_scans(t1_folders, tmp_path, capsys):
    real_dir, synth_dir = t1_folders
    session = tmp_path / "sessions" / "s1"
    assert run(["reading", "create", "--real", str(real_dir), "--synthetic", f"smooth={synth_dir}",
                "--readers", "r1,r2", "--seed", "5", "--pair-by-name", "--window-level", "400,40",
                "--study-id", "cli-study", "--save-study", str(tmp_path / "saved.json"), "--out", str(session)]) == 0
    out = capsys.readouterr().out
    key_path = tmp_path / "sessions" / "s1.truth-key.json"
    assert f"Truth key: {key_path}" in out and "8 cases" in out
    key = read_key(key_path)
    assert key.seed == 5 and key.study.study_id == "cli-study"
    assert {e.generator for e in key.entries.values() if e.truth == "synthetic"} == {"smooth"}
    assert len({e.pair for e in key.entries.values()}) == 4  # each real scan paired with its smoothed copy
    assert json.loads((tmp_path / "saved.json").read_text())["seed"] == 5

    assert run(["reading", "progress", str(session)]) == 0
    assert capsys.readouterr().out.split() == ["r1:", "0/8", "r2:", "0/8"]
    _answer_everything(session, ["r1", "r2"])
    assert run(["reading", "progress", str(session), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"reader_id": "r1", "done": 8, "total": 8},
                                                   {"reader_id": "r2", "done": 8, "total": 8}]

    assert run(["reading", "export", str(session), str(tmp_path / "answers.csv"), "--with-truth"]) == 0
    assert capsys.readouterr().out.startswith("Wrote ")
    rows = list(csv.DictReader((tmp_path / "answers.csv").open()))
    assert len(rows) == 16
    correct = sum(r["correct"] == "True" for r in rows)
    assert all(r["truth"] == key.entries[r["case_id"]].truth for r in rows)

    assert run(["reading", "analyze", str(session), "--json", "--report", str(tmp_path / "report.md")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pooled"]["accuracy"]["successes"] == correct and result["pooled"]["accuracy"]["n"] == 16
    assert result["verdict"] in ("PASS", "FAIL")
    assert result["criteria"][0]["passed"] == (result["verdict"] == "PASS")
    assert (tmp_path / "report.md").read_text().startswith("# Reader study report: cli-study")
    for chart in ("accuracy", "roc", "likert_realism"):
        svg = ElementTree.fromstring((tmp_path / f"report_{chart}.svg").read_text())  # well-formed XML
        assert svg.tag == "{http://www.w3.org/2000/svg}svg" and len(svg) > 5
    assert "report_roc.svg" in (tmp_path / "report.md").read_text()

    assert run(["reading", "analyze", str(session)]) == 0
    out = capsys.readouterr().out
    assert f"pooled: accuracy {correct / 16:.1%} ({correct}/16" in out and "Verdict:" in out
    html = (tmp_path / "sessions" / "s1.report.html").read_text()
    assert html.count("<svg") == 3 and "Fleiss" in html and "ICC(2,1)" in html


def test_create_from_study_file_and_validate(tmp_path, capsys):
    study = write_study(tmp_path, tiny_study_dict(tmp_path))
    assert run(["reading", "validate", str(study)]) == 0
    assert "OK:" in capsys.readouterr().out
    assert run(["reading", "create", "--study", str(study), "--out", str(tmp_path / "s")]) == 0
    assert run(["reading", "add-reader", str(tmp_path / "s"), "r3"]) == 0
    assert "Reader r3: 6 cases" in capsys.readouterr().out


def test_errors_exit_2_with_a_clear_message(tmp_path, capsys):
    data = tiny_study_dict(tmp_path)
    data["cases"][0]["image"] = "missing.nii.gz"
    bad = write_study(tmp_path, data)
    assert run(["reading", "validate", str(bad)]) == 2
    assert "medsynth: error: Study" in capsys.readouterr().err
    assert run(["reading", "create", "--study", str(bad), "--out", str(tmp_path / "s")]) == 2
    assert "image not found" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
    assert run(["reading", "analyze", str(tmp_path / "nothing")]) == 2
    assert "No reading session" in capsys.readouterr().err
    assert run(["reading", "create", "--real", str(tmp_path / "real"), "--out", str(tmp_path / "s")]) == 2
    assert "--synthetic" in capsys.readouterr().err
    assert run(["reading", "create", "--real", str(tmp_path / "real"), "--synthetic", str(tmp_path / "synthetic"),
                "--window-level", "wide", "--out", str(tmp_path / "s")]) == 2
    assert "WIDTH,LEVEL" in capsys.readouterr().err
    good = write_study(tmp_path, tiny_study_dict(tmp_path), "good.json")
    assert run(["reading", "create", "--study", str(good), "--seed", "3", "--out", str(tmp_path / "s")]) == 2
    assert "--seed only apply with --real" in capsys.readouterr().err

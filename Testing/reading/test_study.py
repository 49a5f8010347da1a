"""Study files: YAML and JSON load the same study; bad files give clear, complete errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from reading_helpers import tiny_study_dict, write_study
from medsynth.errors import InputError
from medsynth.reading import StudyError, load_study, save_study
from medsynth.reading.questions import Question, default_questions, normalise_answers
from medsynth.reading.errors import AnswerError
from medsynth.reading.study import blinding_warnings, parse_study


def test_json_and_yaml_give_the_same_study(tmp_path):
    yaml = pytest.importorskip("yaml")
    data = tiny_study_dict(tmp_path)
    data["questions"] = [{"id": "call", "type": "forced_choice", "confidence": True},
                         {"id": "realism", "type": "likert", "min": 1, "max": 5, "labels": {1: "fake", 5: "real"}},
                         {"id": "notes", "type": "free_text", "required": False},
                         {"id": "marks", "type": "point_marks", "required": False, "max_points": 5}]
    data["cases"][0]["window_level"] = "CT_BRAIN"
    data["default_window_level"] = {"window": 400, "level": 40}
    from_json = load_study(write_study(tmp_path, json.loads(json.dumps(data)), "study.json"))
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(data))
    from_yaml = load_study(tmp_path / "study.yaml")
    assert from_json == from_yaml
    assert from_json.questions[0].kind == "real_or_synthetic"  # alias resolved
    assert from_json.questions[1].labels == ((1, "fake"), (5, "real"))
    assert from_json.cases[0].window_level.window == 100 and from_json.cases[0].window_level.level == 50
    assert from_json.window_level_of(from_json.cases[1]).window == 400
    assert from_json.cases[0].image == (tmp_path / "real" / "real_00.nii.gz").resolve()
    assert {c.generator for c in from_json.cases if c.truth == "synthetic"} == {"genA"}


def test_save_and_reload_round_trip(tmp_path):
    study = load_study(write_study(tmp_path, tiny_study_dict(tmp_path)))
    saved = save_study(study, tmp_path / "copy" / "again.json")
    assert load_study(saved) == study
    assert "../real/" in saved.read_text()  # relative paths, so the study folder can move


def test_default_questions_when_none_given(tmp_path):
    study = load_study(write_study(tmp_path, tiny_study_dict(tmp_path)))
    assert [q.kind for q in study.questions] == ["real_or_synthetic", "likert", "free_text", "point_marks"]


def _error(tmp_path: Path, data: dict, name: str = "study.json") -> str:
    with pytest.raises(StudyError) as info:
        load_study(write_study(tmp_path, data, name))
    assert isinstance(info.value, InputError)
    return str(info.value)


def test_missing_image_names_the_case_and_the_path(tmp_path):
    data = tiny_study_dict(tmp_path)
    data["cases"][1]["image"] = "real/does_not_exist.nii.gz"
    message = _error(tmp_path, data)
    assert "cases[1] (id 'real-1')" in message
    assert "image not found" in message
    assert str(tmp_path / "real" / "does_not_exist.nii.gz") in message
    assert "Fix the path" in message


def test_unknown_question_type_lists_the_allowed_types(tmp_path):
    data = tiny_study_dict(tmp_path)
    data["questions"] = [{"id": "call", "type": "real_or_synthetic"}, {"id": "vibe", "type": "slider"}]
    message = _error(tmp_path, data)
    assert "questions[1] (id 'vibe'): unknown question type 'slider'" in message
    for kind in ("real_or_synthetic", "likert", "free_text", "point_marks"):
        assert kind in message


def test_duplicate_case_id_names_both_entries(tmp_path):
    data = tiny_study_dict(tmp_path)
    data["cases"][4]["id"] = "real-0"
    message = _error(tmp_path, data)
    assert "cases[4] (id 'real-0'): duplicate case id 'real-0' (also cases[0])" in message


def test_every_problem_is_reported_at_once(tmp_path):
    data = tiny_study_dict(tmp_path)
    data["cases"][0]["truth"] = "fake"
    data["cases"][1]["image"] = "nowhere.nii.gz"
    data["cases"][2]["id"] = "real-1"
    data["quesions"] = []
    data["acceptance"] = [{"type": "threshold", "metric": "accuracyy", "max": 0.6}]
    message = _error(tmp_path, data)
    assert "has 5 problem(s)" in message
    assert "'truth' must be 'real' or 'synthetic'; got 'fake'" in message
    assert "unknown key 'quesions' (did you mean 'questions'?)" in message
    assert "duplicate case id 'real-1'" in message
    assert "unknown metric 'accuracyy'" in message


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d.pop("study_id"), "'study_id' is missing"),
    (lambda d: d.update(cases=[]), "'cases' must be a non-empty list"),
    (lambda d: d["cases"][3].update(pair="p1") or d["cases"][4].update(pair="p1"),
     "pair 'p1' (synthetic-0, synthetic-1) must hold a real case and at least one synthetic case"),
    (lambda d: d["cases"][0].update(generator="genA"), "a real case has no generator"),
    (lambda d: d["cases"][0].update(window_level="CT_LUNGS"), "unknown preset 'CT_LUNGS'"),
    (lambda d: d.update(questions=[{"id": "c1", "type": "real_or_synthetic"}, {"id": "c2", "type": "forced_choice"}]),
     "More than one real_or_synthetic question"),
    (lambda d: d.update(questions=[{"id": "r", "type": "likert", "min": 5, "max": 1}]), "min < max"),
    (lambda d: d.update(questions=[{"id": "t", "type": "free_text", "confidence": True}]),
     "'confidence' does not apply to a free_text question"),
    (lambda d: d.update(readers=["ok", "has space"]), "reader id 'has space'"),
    (lambda d: d.update(acceptance=[{"type": "threshold", "metric": "likert_mean_synthetic", "min": 3}]),
     "needs 'question' naming a likert question"),
    (lambda d: d.update(acceptance=[{"type": "magic"}]), "unknown criterion type 'magic'"),
    (lambda d: d.update(seed=-1), "'seed' must be a whole number"),
])
def test_other_bad_definitions(tmp_path, mutate, expected):
    data = tiny_study_dict(tmp_path)
    mutate(data)
    assert expected in _error(tmp_path, data)


def test_not_an_image_file(tmp_path):
    data = tiny_study_dict(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    data["cases"][0]["image"] = "notes.txt"
    assert "notes.txt is not an image file MedSynth reads" in _error(tmp_path, data)


def test_json_syntax_error_gives_line_and_column(tmp_path):
    path = tmp_path / "study.json"
    path.write_text('{"study_id": "x",\n "cases": [,]}')
    with pytest.raises(StudyError, match=r"not valid JSON: .* at line 2, column"):
        load_study(path)


def test_yaml_syntax_error_gives_line(tmp_path):
    pytest.importorskip("yaml")
    path = tmp_path / "study.yaml"
    path.write_text("study_id: x\ncases: [a, b\nquestions: 3\n")
    with pytest.raises(StudyError, match=r"not valid YAML: .* at line \d+"):
        load_study(path)


def test_yaml_without_pyyaml_says_what_to_do(tmp_path, monkeypatch):
    path = tmp_path / "study.yaml"
    path.write_text("study_id: x\n")
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml -> ImportError
    with pytest.raises(StudyError, match=r"PyYAML is not installed.*pip install pyyaml.*JSON"):
        load_study(path)
    # JSON still works without PyYAML
    study = load_study(write_study(tmp_path, tiny_study_dict(tmp_path)))
    assert study.study_id == "tiny"


def test_wrong_suffix_and_missing_file(tmp_path):
    (tmp_path / "study.txt").write_text("{}")
    with pytest.raises(StudyError, match=r"\.json, \.yaml or \.yml"):
        load_study(tmp_path / "study.txt")
    with pytest.raises(StudyError, match="Study file not found"):
        load_study(tmp_path / "absent.json")


def test_blinding_warning_for_window_level_that_differs_by_truth(tmp_path):
    data = tiny_study_dict(tmp_path)
    for case in data["cases"]:
        case["window_level"] = "CT_BRAIN" if case["truth"] == "real" else "CT_BONE"
    warnings = blinding_warnings(load_study(write_study(tmp_path, data)))
    assert len(warnings) == 1 and "window/level" in warnings[0]
    assert blinding_warnings(load_study(write_study(tmp_path, tiny_study_dict(tmp_path)))) == []


def test_answer_validation_messages():
    questions = default_questions()
    ok = normalise_answers(questions, {"call": {"choice": "Synthetic", "confidence": 4}, "realism": 2,
                                       "artefacts": [{"ras_mm": [1, 2, 3], "note": "ring"}]})
    assert ok == {"call": {"choice": "synthetic", "confidence": 4}, "realism": 2,
                  "artefacts": [{"lps_mm": [-1.0, -2.0, 3.0], "note": "ring"}]}
    bad = [
        ({"call": {"choice": "synthetic", "confidence": 4}, "realism": 6}, "whole number from 1 to 5; got 6"),
        ({"call": {"choice": "maybe", "confidence": 4}, "realism": 3}, "must choose 'real' or 'synthetic'"),
        ({"call": {"choice": "real"}, "realism": 3}, "needs a confidence from 1"),
        ({"call": {"choice": "real", "confidence": 0}, "realism": 3}, "confidence in the answer"),
        ({"realism": 3}, "Question 'call'"),
        ({"call": "real", "realism": 3, "mood": 1}, "Unknown question id(s) ['mood']"),
        ({"call": {"choice": "real", "confidence": 2}, "realism": True}, "got True"),
        ({"call": {"choice": "real", "confidence": 2}, "realism": 3, "artefacts": [{"lps_mm": [1, 2]}]},
         "three finite numbers"),
    ]
    required_text = (Question("why", "free_text", "Why?", required=True),)
    bad.append(({"why": "   "}, "Question 'why' (Why?) needs an answer"))
    # an optional comment left blank is simply not stored
    assert normalise_answers(questions, {"call": {"choice": "real", "confidence": 1}, "realism": 1,
                                         "comments": ""}) == {"call": {"choice": "real", "confidence": 1},
                                                              "realism": 1}
    for answers, expected in bad:
        questions = required_text if "why" in answers else default_questions()
        with pytest.raises(AnswerError) as info:
            normalise_answers(questions, answers)
        assert expected in str(info.value), (answers, str(info.value))


def test_parse_study_rejects_non_mapping():
    with pytest.raises(StudyError, match="top level must be a mapping"):
        parse_study(["not", "a", "study"])

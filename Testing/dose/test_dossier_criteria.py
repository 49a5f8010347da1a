"""Dossier criteria: judged on the worst case, unmeasured figures never pass, bad files refused."""

from __future__ import annotations

import json

import pytest

from medsynth.dossier.criteria import DEFAULT_SYNTHCT_CRITERIA, judge, load_criteria
from medsynth.errors import InputError

CASES = [("a", {"gamma": 99.0, "mae": 40.0}), ("b", {"gamma": 93.0, "mae": 90.0}), ("c", {"gamma": 97.0, "mae": None})]


def test_worst_case_decides():
    verdicts = {v.figure: v for v in judge({"gamma": {"min": 95}, "mae": {"max": 100}}, CASES)}
    assert (verdicts["gamma"].worst, verdicts["gamma"].worst_case, verdicts["gamma"].status) == (93.0, "b", "FAIL")
    assert (verdicts["mae"].worst, verdicts["mae"].worst_case, verdicts["mae"].status) == (90.0, "b", "pass")
    assert judge({"gamma": {"min": 93}}, CASES)[0].status == "pass"  # the bound itself passes


def test_unmeasured_figure_is_not_a_pass():
    assert judge({"proton_gamma_pass_percent": {"min": 90}}, CASES)[0].status == "not measured"


def test_criteria_file(tmp_path):
    path = tmp_path / "criteria.json"
    path.write_text(json.dumps({"image_mae_hu": {"max": 80, "why": "site tolerance"}}))
    assert load_criteria(path) == {"image_mae_hu": {"max": 80, "why": "site tolerance"}}
    assert load_criteria(None) is DEFAULT_SYNTHCT_CRITERIA
    for bad in ({"image_mae_hu": {"max": 80, "min": 1}}, {"image_mae_hu": {"max": "80"}}, [], {}):
        path.write_text(json.dumps(bad))
        with pytest.raises(InputError):
            load_criteria(path)
    path.write_text("{not json")
    with pytest.raises(InputError, match="Cannot read"):
        load_criteria(path)

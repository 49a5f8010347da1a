"""The ``medsynth`` command line: help everywhere, models and info commands, errors as exit code 2."""

import argparse
import json
import subprocess
import sys
import zipfile

import pytest

from medsynth.cli import build_parser, main
from model_factory import install_model, pointwise_graph


def _all_command_paths(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + (name,)
                yield from _all_command_paths(sub, prefix + (name,))


def test_every_subcommand_has_help(capsys):
    paths = list(_all_command_paths(build_parser()))
    assert ("models", "list") in paths and ("info",) in paths
    for path in paths:
        with pytest.raises(SystemExit) as exit_info:
            main([*path, "--help"])
        assert exit_info.value.code == 0
        assert "usage: medsynth " + " ".join(path) in capsys.readouterr().out


def test_models_list_and_show(capsys):
    assert main(["models", "list", "--json"]) == 0
    ids = [row["id"] for row in json.loads(capsys.readouterr().out)]
    assert "demo-edges" in ids
    assert main(["models", "show", "demo-edges"]) == 0
    out = capsys.readouterr().out
    assert "Intended use" in out and "sha256 verified" in out


def test_models_import_into_user_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDSYNTH_HOME", str(tmp_path / "home"))
    folder = install_model(tmp_path / "src", pointwise_graph(), id="imported-one")
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(folder / "card.json", "card.json")
        handle.write(folder / "model.onnx", "model.onnx")
    assert main(["models", "import", str(archive)]) == 0
    assert (tmp_path / "home" / "models" / "imported-one" / "model.onnx").is_file()
    assert main(["models", "import", str(archive)]) == 2
    assert "already installed" in capsys.readouterr().err


def test_info_on_a_real_dicom_series(test_data, capsys):
    assert main(["info", str(test_data / "dicom_mr_series_small"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["size"] == [128, 128, 30]
    assert info["orientation"] == "LPS"
    assert info["intensity"]["max"] > info["intensity"]["median"] > info["intensity"]["min"]


def test_errors_are_one_line_and_exit_code_2(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "medsynth", "info", str(tmp_path / "nope.nii.gz")],
                               capture_output=True, text=True)
    assert completed.returncode == 2
    assert completed.stderr.startswith("medsynth: error: Input not found")
    assert "Traceback" not in completed.stderr

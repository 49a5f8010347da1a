"""``medsynth synth-ct`` and the ``train`` command's import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk

import medsynth.cli as cli



def test_synth_ct_writes_ct_uncertainty_and_provenance(head_mr_path, tmp_path, capsys):
    before = head_mr_path.read_bytes()
    out, spread, record = tmp_path / "sct.nii.gz", tmp_path / "sd.nii.gz", tmp_path / "prov.json"
    code = cli.main(["synth-ct", str(head_mr_path), str(out), "--model", "synthct-head", "--uncertainty", str(spread),
                     "--tta", "2", "--provenance", str(record)])
    assert code == 0
    assert head_mr_path.read_bytes() == before
    ct, sd, mr = (sitk.ReadImage(str(p)) for p in (out, spread, head_mr_path))
    assert ct.GetSize() == mr.GetSize() and sd.GetSize() == mr.GetSize()
    assert np.allclose(ct.GetOrigin(), mr.GetOrigin(), atol=1e-3)
    values = sitk.GetArrayFromImage(ct)
    assert values.min() >= -1024 and (values > 300).any()
    assert sitk.GetArrayFromImage(sd).min() >= 0
    provenance = json.loads(record.read_text())
    assert provenance["model_id"] == "synthct-head" and provenance["synthetic"] is True
    assert provenance["parameters"]["tta_passes"] == 2
    assert "wrote" in capsys.readouterr().out


def test_bad_input_exits_2_with_a_message_and_writes_nothing(test_data, tmp_path, capsys):
    out = tmp_path / "sct.nii.gz"
    code = cli.main(["synth-ct", str(test_data / "scct_hu.nii.gz"), str(out)])
    assert code == 2
    assert "looks like a CT" in capsys.readouterr().err
    assert not out.exists()


def test_missing_input_and_unknown_model(head_mr_path, tmp_path, capsys):
    assert cli.main(["synth-ct", str(tmp_path / "nope.nii.gz"), str(tmp_path / "o.nii.gz")]) == 2
    assert "not found" in capsys.readouterr().err
    assert cli.main(["synth-ct", str(head_mr_path), str(tmp_path / "o.nii.gz"), "--model", "no-such-model"]) == 2
    assert "No model 'no-such-model'" in capsys.readouterr().err


def test_runtime_modules_do_not_import_torch():
    """The run-time path (task, baselines, CLI incl. the train command's parser) never imports torch."""
    code = ("import sys, medsynth.tasks.synthct, medsynth.tasks.synthct_baselines, medsynth.cli.synthct_cmd, "
            "medsynth.cli.train_cmd, medsynth.training, medsynth.training.synthct.model, "
            "medsynth.training.synthct.train, medsynth.training.synthct.builtin, medsynth.training.export; "
            "import medsynth.cli as c; c.build_parser('synth-ct'); c.build_parser('train'); "
            "bad = sorted(m for m in ('torch', 'monai', 'slicer', 'qt') if m in sys.modules); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_train_synth_ct_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "synth-ct", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for option in ("--data", "--architecture", "--patch", "--no-resume", "SynthRAD2025"):
        assert option in text

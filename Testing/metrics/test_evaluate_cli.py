"""``medsynth evaluate sct``: one case and cohort mode, through the real ``medsynth`` entry point."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import types

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.cli import evaluate_cmd, main
from medsynth.metrics.synthrad import evaluate_sct


def _case_arrays(seed: int, shape=(14, 15, 16)):
    rng = np.random.default_rng(seed)
    ct = rng.integers(-1024, 2500, size=shape).astype(np.int16)
    sct = (ct + rng.normal(0, 40 + 20 * seed, size=shape)).astype(np.float32)
    mask = np.zeros(shape, dtype=np.uint8)
    mask[2:-2, 2:-2, 2:-2] = 1
    return ct, sct, mask


def _write(array: np.ndarray, path, spacing=(1.0, 1.0, 1.0)) -> None:
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    sitk.WriteImage(image, str(path))


def _cohort(root, n=3, sct_dir=None):
    """SynthRAD-layout cohort; returns {case: (ct, sct, mask)}."""
    cases = {}
    for i in range(n):
        name = f"1BA{i:03d}"
        folder = root / name
        folder.mkdir(parents=True)
        ct, sct, mask = _case_arrays(i)
        ext = ".mha" if i == 1 else ".nii.gz"
        _write(ct, folder / f"ct{ext}")
        _write(mask, folder / f"mask{ext}")
        if sct_dir is None:
            _write(sct, folder / f"sct{ext}")
        else:
            sct_dir.mkdir(exist_ok=True)
            _write(sct, sct_dir / f"{name}{ext}")
        cases[name] = (ct, sct, mask)
    (root / "overview").mkdir()  # not a case: no ct inside
    return cases


def test_one_case_json_has_the_challenge_keys_and_values(tmp_path, capsys):
    ct, sct, mask = _case_arrays(0)
    for name, array in (("ct", ct), ("sct", sct), ("mask", mask)):
        _write(array, tmp_path / f"{name}.nii.gz")
    argv = ["evaluate", "sct", "--ct", str(tmp_path / "ct.nii.gz"), "--sct", str(tmp_path / "sct.nii.gz"),
            "--mask", str(tmp_path / "mask.nii.gz"), "--json"]
    for edition, key in (("2023", "ssim"), ("2025", "ms_ssim")):
        assert main([*argv, "--edition", edition]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert set(printed) == {"mae", "psnr", key}
        expected = evaluate_sct(ct, sct, mask, edition).as_dict()
        for k in printed:
            assert printed[k] == pytest.approx(expected[k], rel=1e-12)


def test_one_case_text_output_and_identical_images(tmp_path, capsys):
    ct, _, mask = _case_arrays(1)
    _write(ct, tmp_path / "ct.mha")
    _write(mask, tmp_path / "mask.mha")
    argv = ["evaluate", "sct", "--ct", str(tmp_path / "ct.mha"), "--sct", str(tmp_path / "ct.mha"),
            "--mask", str(tmp_path / "mask.mha")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "MAE" in out and "0.00 HU" in out and "inf dB" in out and "SSIM" in out and "1.0000" in out
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)  # strict JSON: infinite PSNR becomes null
    assert printed["psnr"] is None and printed["mae"] == 0.0


def test_one_case_on_different_grids_fails_with_a_resampling_hint(tmp_path, capsys):
    ct, sct, mask = _case_arrays(2)
    _write(ct, tmp_path / "ct.nii.gz")
    _write(sct, tmp_path / "sct.nii.gz", spacing=(2.0, 1.0, 1.0))
    _write(mask, tmp_path / "mask.nii.gz")
    status = main(["evaluate", "sct", "--ct", str(tmp_path / "ct.nii.gz"), "--sct", str(tmp_path / "sct.nii.gz"),
                   "--mask", str(tmp_path / "mask.nii.gz")])
    assert status == 2
    assert "esample" in capsys.readouterr().err


def test_cohort_writes_per_case_csv_and_prints_mean_and_sd(tmp_path, capsys):
    cases = _cohort(tmp_path / "cohort")
    out_csv = tmp_path / "metrics.csv"
    assert main(["evaluate", "sct", "--cohort", str(tmp_path / "cohort"), "--out", str(out_csv), "--edition", "2025"]) == 0
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["case"] for r in rows] == sorted(cases)
    expected = {name: evaluate_sct(*arrays, "2025") for name, arrays in cases.items()}
    for row in rows:
        e = expected[row["case"]]
        assert float(row["mae"]) == pytest.approx(e.mae, rel=1e-12)
        assert float(row["psnr"]) == pytest.approx(e.psnr, rel=1e-12)
        assert float(row["ms_ssim"]) == pytest.approx(e.ms_ssim, rel=1e-12)
        assert int(row["mask_voxels"]) == e.mask_voxels and row["error"] == ""
    maes = [e.mae for e in expected.values()]
    out = capsys.readouterr().out
    assert f"{np.mean(maes):.2f} \u00b1 {np.std(maes, ddof=1):.2f} HU" in out
    assert "3 of 3 cases" in out


def test_cohort_with_predictions_in_a_separate_folder_and_json(tmp_path, capsys):
    cases = _cohort(tmp_path / "cohort", sct_dir=tmp_path / "pred")
    assert main(["evaluate", "sct", "--cohort", str(tmp_path / "cohort"), "--sct-dir", str(tmp_path / "pred"),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [c["case"] for c in printed["cases"]] == sorted(cases)
    ssims = [evaluate_sct(*cases[name], "2023").ssim for name in sorted(cases)]
    assert [c["ssim"] for c in printed["cases"]] == pytest.approx(ssims, rel=1e-12)
    assert printed["summary"]["ssim"]["mean"] == pytest.approx(np.mean(ssims))
    assert printed["summary"]["ssim"]["sd"] == pytest.approx(np.std(ssims, ddof=1))
    assert printed["summary"]["ssim"]["n"] == 3


def test_cohort_reports_a_broken_case_and_scores_the_others(tmp_path, capsys):
    cases = _cohort(tmp_path / "cohort")
    (tmp_path / "cohort" / "1BA002" / "sct.nii.gz").unlink()
    out_csv = tmp_path / "metrics.csv"
    assert main(["evaluate", "sct", "--cohort", str(tmp_path / "cohort"), "--out", str(out_csv)]) == 1
    rows = {r["case"]: r for r in csv.DictReader(out_csv.open())}
    assert "missing sct" in rows["1BA002"]["error"] and rows["1BA002"]["mae"] == ""
    assert rows["1BA000"]["error"] == "" and float(rows["1BA000"]["mae"]) > 0
    captured = capsys.readouterr()
    assert "2 of 3 cases" in captured.out and "1BA002" in captured.err
    maes = [evaluate_sct(*cases[name], "2023").mae for name in ("1BA000", "1BA001")]
    assert f"{np.mean(maes):.2f} \u00b1" in captured.out


def test_arguments_that_do_not_fit_together_are_refused(tmp_path, capsys):
    ct = tmp_path / "x.nii.gz"  # exists: paths are checked first, then how the arguments fit together
    ct.write_bytes(b"")
    assert main(["evaluate", "sct", "--cohort", str(tmp_path), "--ct", str(ct)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["evaluate", "sct", "--ct", str(ct)]) == 2
    assert "--mask" in capsys.readouterr().err
    assert main(["evaluate", "sct", "--cohort", str(tmp_path)]) == 2  # empty folder: no case
    assert "No case found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate"])  # the group needs a subcommand


def test_another_module_can_add_an_evaluate_subcommand(monkeypatch, capsys):
    fake = types.ModuleType("fake_evaluate_anomaly")

    def register_evaluate(evaluate_subparsers):
        parser = evaluate_subparsers.add_parser("anomaly", help="anomaly maps")
        parser.set_defaults(func=lambda args: print("anomaly ran") or 0)

    fake.register_evaluate = register_evaluate
    monkeypatch.setitem(sys.modules, "fake_evaluate_anomaly", fake)
    monkeypatch.setattr(evaluate_cmd, "EVALUATE_SUBCOMMAND_MODULES", ("fake_evaluate_anomaly",))
    parser = argparse.ArgumentParser()
    evaluate_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["evaluate", "anomaly"])
    assert args.func(args) == 0
    assert "anomaly ran" in capsys.readouterr().out
    assert parser.parse_args(["evaluate", "sct", "--ct", "a"]).func is evaluate_cmd.run_sct


def test_mean_sd_helper_edge_cases():
    assert evaluate_cmd._mean_sd([])[2] == 0 and math.isnan(evaluate_cmd._mean_sd([])[0])
    mean, sd, n = evaluate_cmd._mean_sd([2.0])
    assert (mean, n) == (2.0, 1) and math.isnan(sd)
    mean, sd, n = evaluate_cmd._mean_sd([1.0, 2.0, 4.0])
    assert mean == pytest.approx(7 / 3) and sd == pytest.approx(np.std([1, 2, 4], ddof=1))

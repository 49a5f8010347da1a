"""``medsynth evaluate dose`` as a user runs it: one case and a cohort (folder and CSV), through a subprocess.

Real engine (pyRadPlan, dose venv), a small water phantom on a 5 mm grid so that it stays quick on 2 cores.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

pytest.importorskip("pyRadPlan", reason="pyRadPlan is installed in the dose venv only (make dose-venv)")


def _phantom(extra_hu: float = 0.0) -> sitk.Image:
    """Water cylinder (radius 55 mm) with a 'skull' ring in air, 5 mm voxels; ``extra_hu`` added to the water."""
    shape, h = (14, 26, 26), 5.0
    _, y, x = np.indices(shape)
    r = np.hypot((y - 12.5) * h, (x - 12.5) * h)
    ct = np.where(r <= 45.0, extra_hu, np.where(r <= 55.0, 800.0, -1000.0)).astype(np.float32)
    image = sitk.GetImageFromArray(ct)
    image.SetSpacing((h, h, h))
    return image


def _medsynth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medsynth", "evaluate", "dose", *map(str, args)],
                          capture_output=True, text=True, timeout=1800)


def _png(path: Path) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cohort")
    for case, extra in (("exact", 0.0), ("plus100", 100.0)):
        (root / case).mkdir()
        sitk.WriteImage(_phantom(), str(root / case / "ct.nii.gz"))
        sitk.WriteImage(_phantom(extra), str(root / case / "sct.nii.gz"))
    (root / "no_sct").mkdir()
    sitk.WriteImage(_phantom(), str(root / "no_sct" / "ct.nii.gz"))
    return root


def test_cohort_folder_gives_one_table_pictures_and_reports_the_broken_case(cohort, tmp_path):
    table, out_dir = tmp_path / "dose.csv", tmp_path / "out"
    run = _medsynth("--cohort", cohort, "--out", table, "--out-dir", out_dir)
    assert run.returncode == 1, run.stderr  # one case has no sCT: reported, the others scored
    assert "case no_sct (photon) not scored: no sCT image" in run.stderr
    rows = {r["case"]: r for r in csv.DictReader(table.open())}
    assert set(rows) == {"exact", "plus100", "no_sct"}
    assert float(rows["exact"]["gamma_pass_percent"]) == 100.0
    assert float(rows["exact"]["dose_mae_percent"]) < 1e-3
    assert float(rows["plus100"]["dose_mae_percent"]) > 0.5
    assert rows["no_sct"]["gamma_pass_percent"] == "" and rows["no_sct"]["error"] == "no sCT image"
    assert "photon: 2 cases scored" in run.stdout
    for case in ("exact", "plus100"):
        folder = out_dir / case / "photon"
        assert {p.name for p in folder.iterdir()} == {"ct_dose.nii.gz", "sct_dose.nii.gz", "dose_difference.nii.gz",
                                                      "gamma.nii.gz", "dose.png", "dvh.png"}
    strip_exact, strip_plus = _png(out_dir / "exact" / "photon" / "dose.png"), _png(out_dir / "plus100" / "photon" / "dose.png")
    assert strip_exact.ndim == 3 and strip_exact.shape[1] > 3 * strip_exact.shape[0]  # four panels side by side
    quarter = strip_exact.shape[1] // 4
    # the dose panel is coloured (heat), the |difference| panel of the exact sCT is not, that of +100 HU is
    colour = lambda a: int(np.count_nonzero(np.ptp(a.astype(int), axis=-1) > 30))  # noqa: E731
    assert colour(strip_exact[:, :quarter]) > 50
    assert colour(strip_exact[:, 2 * quarter:3 * quarter]) < colour(strip_plus[:, 2 * quarter:3 * quarter])
    dvh = _png(out_dir / "plus100" / "photon" / "dvh.png")
    assert dvh.shape[:2] == (360, 500) and np.ptp(dvh) > 100


def test_cohort_csv_and_single_case_both_modalities(cohort, tmp_path):
    listing = tmp_path / "cases.csv"
    listing.write_text(f"case,ct,sct\nplus100,{cohort}/plus100/ct.nii.gz,{cohort}/plus100/sct.nii.gz\n")
    run = _medsynth("--cohort", listing, "--modality", "proton", "--json")
    assert run.returncode == 0, run.stderr
    import json

    report = json.loads(run.stdout)
    assert [r["case"] for r in report["cases"]] == ["plus100"]
    proton_mae = report["cases"][0]["dose_mae_percent"]
    single = _medsynth("--ct", cohort / "plus100" / "ct.nii.gz", "--sct", cohort / "plus100" / "sct.nii.gz",
                       "--modality", "both", "--json", "--out-dir", tmp_path / "one")
    assert single.returncode == 0, single.stderr
    by_modality = {r["modality"]: r for r in json.loads(single.stdout)}
    assert by_modality["proton"]["dose_mae_percent"] == pytest.approx(proton_mae, rel=1e-3)
    assert by_modality["proton"]["dose_mae_percent"] > by_modality["photon"]["dose_mae_percent"]
    assert (tmp_path / "one" / "photon" / "dvh.png").is_file() and (tmp_path / "one" / "proton" / "dose.png").is_file()


def test_bad_cohort_csv_is_one_line_error(tmp_path):
    listing = tmp_path / "cases.csv"
    listing.write_text("name,image\na,b\n")
    run = _medsynth("--cohort", listing)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("medsynth: error:") and "case, ct, sct" in run.stderr
    assert "Traceback" not in run.stderr

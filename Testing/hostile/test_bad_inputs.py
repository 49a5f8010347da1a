"""Hostile but realistic inputs and paths through every command: each is refused with exit status 2,
a one-line message naming the problem, no traceback, its inputs unchanged and no file left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from medsynth.io.dicom_export import export_sct_dicom

from bad_inputs import (copy_tree, ct_values, fingerprint, inverted_head, labels_like, model_zip, negated_head,
                        negative_scale, oblique_slice, slice_in_3d_space, truncated, with_bad_value, write, zero_pixdim)

FUTURE = ["--age", "70", "--sex", "F", "--diagnosis", "CN", "--years", "2"]

#: (case id, medsynth arguments, words the message must contain, extra environment)
CASES = [
    # 1. an output that is an input, or another output
    ("synthct-out-is-input", ["synth-ct", "t1.nii.gz", "t1.nii.gz"], "never overwrites an input", {}),
    ("synthct-out-dotdot-input", ["synth-ct", "t1.nii.gz", "cases/../t1.nii.gz"], "never overwrites an input", {}),
    ("synthct-out-hardlink", ["synth-ct", "t1.nii.gz", "hard.nii.gz"], "never overwrites an input", {}),
    ("synthct-out-is-mask", ["synth-ct", "t1.nii.gz", "mask.nii.gz", "--mask", "mask.nii.gz"], "never overwrites", {}),
    ("synthct-uncertainty-is-out", ["synth-ct", "t1.nii.gz", "o.nii.gz", "--uncertainty", "o.nii.gz"], "same file", {}),
    ("synthct-uncertainty-is-input", ["synth-ct", "t1.nii.gz", "o.nii.gz", "--uncertainty", "t1.nii.gz"],
     "never overwrites", {}),
    ("synthct-provenance-is-input", ["synth-ct", "t1.nii.gz", "o.nii.gz", "--provenance", "p.json", "--uncertainty",
                                     "p.json"], "must end with", {}),
    ("future-out-is-input", ["predict-future", "t1.nii.gz", "t1.nii.gz", *FUTURE], "never overwrites", {}),
    ("future-changemap-is-input", ["predict-future", "t1.nii.gz", "o.nii.gz", "--change-map", "t1.nii.gz", *FUTURE],
     "never overwrites", {}),
    ("future-volumes-over-nifti", ["predict-future", "t1.nii.gz", "o.nii.gz", "--volumes", "t1.nii.gz", *FUTURE],
     "must end with .csv", {}),
    ("future-changemap-is-out", ["predict-future", "t1.nii.gz", "o.nii.gz", "--change-map", "o.nii.gz", *FUTURE],
     "same file", {}),
    ("anomaly-heatmap-is-input", ["anomaly-map", "t1.nii.gz", "t1.nii.gz"], "never overwrites", {}),
    ("anomaly-recon-is-heatmap", ["anomaly-map", "t1.nii.gz", "h.nii.gz", "--reconstruction", "h.nii.gz"],
     "same file", {}),
    # 5. impossible or wrong output locations, refused before the model runs
    ("synthct-out-proc", ["synth-ct", "t1.nii.gz", "/proc/medsynth.nii.gz"], "system location", {}),
    ("synthct-out-under-file", ["synth-ct", "t1.nii.gz", "afile/o.nii.gz"], "is a file, not a folder", {}),
    ("synthct-out-existing-dir", ["synth-ct", "t1.nii.gz", "folder.nii.gz"], "existing folder", {}),
    ("synthct-out-wrong-ending", ["synth-ct", "t1.nii.gz", "o.txt"], "must end with", {}),
    ("synthct-provenance-ending", ["synth-ct", "t1.nii.gz", "o.nii.gz", "--provenance", "p.txt"], "must end with .json",
     {}),
    ("future-pictures-is-file", ["predict-future", "t1.nii.gz", "o.nii.gz", "--pictures", "afile", *FUTURE],
     "it is a file", {}),
    ("anomaly-png-ending", ["anomaly-map", "t1.nii.gz", "h.nii.gz", "--png", "p.jpg"], "must end with .png", {}),
    ("export-dicom-into-proc", ["export-dicom", "ct.nii.gz", "/proc/medsynth_dicom"], "system location", {}),
    ("export-dicom-into-file", ["export-dicom", "ct.nii.gz", "afile"], "it is a file", {}),
    ("evaluate-out-existing-dir", ["evaluate", "sct", "--ct", "t1.nii.gz", "--sct", "t1.nii.gz", "--out", "res.csv"],
     "existing folder", {}),
    ("evaluate-out-proc", ["evaluate", "sct", "--ct", "t1.nii.gz", "--sct", "t1.nii.gz", "--out", "/proc/r.csv"],
     "system location", {}),
    ("reading-export-proc", ["reading", "export", "session", "/proc/answers.csv"], "system location", {}),
    # missing inputs
    ("synthct-missing-input", ["synth-ct", "nothere.nii.gz", "o.nii.gz"], "not found", {}),
    ("evaluate-missing-sct", ["evaluate", "sct", "--ct", "t1.nii.gz", "--sct", "nothere.nii.gz", "--mask", "mask.nii.gz"], "not found", {}),
    ("info-missing", ["info", "nothere.nii.gz"], "not found", {}),
    ("batch-missing-params", ["batch", "run-model", "cases", "bout", "--model", "demo-edges", "--params", "no.csv"],
     "not found", {}),
    # 3. NaN/Inf, zero pixdim, invalid scales, truncation, size budget
    ("info-nan", ["info", "nan.nii.gz"], "non-finite", {}),
    ("info-inf", ["info", "inf.nii.gz"], "non-finite", {}),
    ("synthct-nan", ["synth-ct", "nan.nii.gz", "o.nii.gz"], "non-finite", {}),
    ("synthct-mask-inf", ["synth-ct", "t1.nii.gz", "o.nii.gz", "--mask", "inf.nii.gz"], "non-finite", {}),
    ("future-nan", ["predict-future", "nan.nii.gz", "o.nii.gz", *FUTURE], "non-finite", {}),
    ("anomaly-nan", ["anomaly-map", "nan.nii.gz", "h.nii.gz"], "non-finite", {}),
    ("evaluate-ct-nan", ["evaluate", "sct", "--ct", "nan.nii.gz", "--sct", "t1.nii.gz", "--mask", "mask.nii.gz"], "non-finite", {}),
    ("evaluate-sct-inf", ["evaluate", "sct", "--ct", "t1.nii.gz", "--sct", "inf.nii.gz", "--mask", "mask.nii.gz"], "non-finite", {}),
    ("export-dicom-nan", ["export-dicom", "nan.nii.gz", "dicom_out"], "non-finite", {}),
    ("info-zero-pixdim", ["info", "zero.nii"], "spacing", {}),
    ("synthct-zero-pixdim", ["synth-ct", "zero.nii", "o.nii.gz"], "spacing", {}),
    ("info-negative-scale", ["info", "negscale.nii"], "intensity scale", {}),
    ("info-truncated", ["info", "trunc.nii"], "truncated", {}),
    ("info-size-budget", ["info", "t1.nii.gz"], "above the limit", {"MEDSYNTH_MAX_VOXELS": "1000"}),
    ("synthct-size-budget", ["synth-ct", "t1.nii.gz", "o.nii.gz"], "above the limit", {"MEDSYNTH_MAX_VOXELS": "1000"}),
    ("bad-budget-setting", ["info", "t1.nii.gz"], "MEDSYNTH_MAX_VOXELS", {"MEDSYNTH_MAX_VOXELS": "lots"}),
    # 7. DICOM series
    ("info-dicom-missing-slice", ["info", "series_missing"], "a slice is missing between", {}),
    ("info-dicom-duplicate-uid", ["info", "series_dup"], "SOP Instance UID", {}),
    # 4. batch folders
    ("batch-out-is-in", ["batch", "run-model", "cases", "cases", "--model", "demo-edges"], "input folder", {}),
    ("batch-out-inside-in", ["batch", "run-model", "cases", "cases/out", "--model", "demo-edges"], "input folder", {}),
    ("batch-in-inside-out", ["batch", "run-model", "cases", ".", "--model", "demo-edges"], "input folder", {}),
    ("batch-out-is-file", ["batch", "run-model", "cases", "afile", "--model", "demo-edges"], "it is a file", {}),
    # 2. models
    ("models-import-shadows-builtin", ["models", "import", "shadow.zip"], "already installed (built-in", {}),
    ("models-import-corrupt-onnx", ["models", "import", "corrupt.zip"], "does not load in onnxruntime", {}),
    ("models-import-missing", ["models", "import", "nothere.zip"], "not found", {}),
    # 6. wrong content
    ("export-dicom-mr-as-ct", ["export-dicom", "t1.nii.gz", "dicom_out"], "does not look like a CT", {}),
    ("evaluate-mr-as-ct", ["evaluate", "sct", "--ct", "t1.nii.gz", "--sct", "ct.nii.gz", "--mask", "mask.nii.gz"],
     "--ct t1.nii.gz does not look like a CT", {}),
    ("evaluate-mr-as-sct", ["evaluate", "sct", "--ct", "ct.nii.gz", "--sct", "t1.nii.gz", "--mask", "mask.nii.gz"],
     "--sct t1.nii.gz does not look like a CT", {}),
    ("export-dicom-overwrite-foreign", ["export-dicom", "ct.nii.gz", "session", "--overwrite"],
     "only a folder of DICOM files", {}),
    ("reading-empty-readers", ["reading", "create", "--real", "cases", "--synthetic", "g=cases", "--readers", "",
                               "--out", "sess"], "names no reader", {}),
    # negated / inverted intensities: named as such, not as another contrast
    ("synthct-negated-mr", ["synth-ct", "neg.nii.gz", "o.nii.gz"], "intensities look negated/inverted", {}),
    ("future-inverted-mr", ["predict-future", "inv.nii.gz", "o.nii.gz", *FUTURE], "intensities look negated/inverted",
     {}),
    # 2D slices, also of oblique volumes and placed in 3D space
    ("info-nrrd-slice-in-3d-space", ["info", "slice3d.nrrd"], "2D slice placed in 3D space", {}),
    ("synthct-nrrd-slice-in-3d-space", ["synth-ct", "slice3d.nrrd", "o.nii.gz"], "2D slice placed in 3D space", {}),
    ("synthct-oblique-2d-slice", ["synth-ct", "oblique_slice.nii.gz", "o.nii.gz"], "is 2D", {}),
    ("future-oblique-2d-slice", ["predict-future", "oblique_slice.nii.gz", "o.nii.gz", *FUTURE], "is 2D", {}),
    # label maps (the future-MRI task's mask) that are empty or from another space
    ("future-labels-empty", ["predict-future", "t1.nii.gz", "o.nii.gz", "--labels", "labels_empty.nii.gz",
                             "--outside-domain", *FUTURE], "label map is empty", {}),
    ("future-labels-other-space", ["predict-future", "t1.nii.gz", "o.nii.gz", "--labels", "labels_moved.nii.gz",
                                   "--outside-domain", *FUTURE], "belongs to another image or space", {}),
]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write(tmp_path / "t1.nii.gz")
    write(tmp_path / "mask.nii.gz")
    write(tmp_path / "ct.nii.gz", ct_values())
    os.link(tmp_path / "t1.nii.gz", tmp_path / "hard.nii.gz")
    with_bad_value(tmp_path / "nan.nii.gz", float("nan"))
    with_bad_value(tmp_path / "inf.nii.gz", float("inf"))
    zero_pixdim(tmp_path / "zero.nii")
    negative_scale(tmp_path / "negscale.nii")
    truncated(tmp_path / "trunc.nii")
    (tmp_path / "afile").write_text("not a folder\n")
    for folder in ("folder.nii.gz", "res.csv", "session", "home/models"):
        (tmp_path / folder).mkdir(parents=True)
    copy_tree(tmp_path / "session", tmp_path / "cases")
    (tmp_path / "session" / "notes.txt").write_text("a reader's notes, not DICOM\n")
    write(tmp_path / "cases" / "case1.nii.gz")
    export_sct_dicom(tmp_path / "ct.nii.gz", tmp_path / "series_missing")
    copy_tree(tmp_path / "series_missing", tmp_path / "series_dup")
    sorted((tmp_path / "series_missing").iterdir())[7].unlink()
    shutil.copy(sorted((tmp_path / "series_dup").iterdir())[3], tmp_path / "series_dup" / "copy.dcm")
    model_zip(tmp_path / "shadow.zip", "synthct-head")
    model_zip(tmp_path / "corrupt.zip", "my-model", weights=b"this is not an ONNX model" * 10)
    negated_head(tmp_path / "neg.nii.gz")
    inverted_head(tmp_path / "inv.nii.gz")
    oblique_slice(tmp_path / "oblique_slice.nii.gz")
    slice_in_3d_space(tmp_path / "slice3d.nrrd")
    labels_like(tmp_path / "labels_empty.nii.gz", empty=True)
    labels_like(tmp_path / "labels_moved.nii.gz", shift_voxels=10)
    return tmp_path


@pytest.mark.parametrize("argv, words, env", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_cleanly(work: Path, argv: list[str], words: str, env: dict[str, str]) -> None:
    before = fingerprint(work)
    environment = {**os.environ, "MEDSYNTH_HOME": str(work / "home"), "OMP_NUM_THREADS": "1", **env}
    environment.pop("MEDSYNTH_MAX_VOXELS", None) if "MEDSYNTH_MAX_VOXELS" not in env else None
    done = subprocess.run([sys.executable, "-m", "medsynth", *argv], cwd=work, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    message = [line for line in done.stderr.splitlines() if line.startswith("medsynth: error:")]
    assert len(message) == 1 and words in message[0], done.stderr
    assert "np.float64" not in done.stderr
    assert fingerprint(work) == before  # inputs unchanged, no output and no hidden partial file


def test_at_least_forty_distinct_cases() -> None:
    assert len({c[0] for c in CASES}) == len(CASES) >= 40
    commands = {c[1][0] for c in CASES}
    assert {"synth-ct", "predict-future", "anomaly-map", "info", "export-dicom", "evaluate", "batch", "reading",
            "models"} <= commands

"""``medsynth anomaly-benchmark`` on a real (shrunk) held-out scan: cases, labels, manifest, errors."""

import json

import numpy as np
import SimpleITK as sitk

from medsynth.cli import main


def _shrunk_subject(shared_data, folder):
    """IXI051 at 4 mm with its DLMUSE labels (nearest), so the benchmark builds in seconds."""
    source = sorted((shared_data / "subjects_t1").glob("IXI051*.nii.gz"))[0]
    labels = shared_data / "subjects_t1" / "dlmuse" / source.name.replace(".nii.gz", "_DLMUSE.nii.gz")
    scans, label_dir = folder / "scans", folder / "labels"
    scans.mkdir()
    label_dir.mkdir()
    scan = scans / "IXI051-small.nii.gz"
    sitk.WriteImage(sitk.Shrink(sitk.ReadImage(str(source)), [2, 2, 2]), str(scan))
    sitk.WriteImage(sitk.Shrink(sitk.ReadImage(str(labels)), [2, 2, 2]), str(label_dir / "IXI051-small_DLMUSE.nii.gz"))
    return scan, label_dir


def test_benchmark_command_builds_labelled_cases(shared_data, tmp_path, capsys):
    scan, labels = _shrunk_subject(shared_data, tmp_path)
    before = scan.read_bytes()
    out = tmp_path / "bench"
    code = main(["anomaly-benchmark", str(out), "--validation", str(scan), "--brain-labels", str(labels),
                 "--lesions", str(shared_data / "lesions_mni"),
                 "--template", str(shared_data / "templates" / "avg152T1.nii.gz"), "--lesions-per-scan", "1"])
    assert code == 0 and "12 cases" in capsys.readouterr().out
    assert scan.read_bytes() == before
    cases = json.loads((out / "manifest.json").read_text())
    kinds = [c["kind"] for c in cases]
    assert kinds.count("clean") == 1 and kinds.count("lesion") == 2
    assert all(kinds.count(k) == 3 for k in ("motion", "ghosting", "spike"))
    clean = sitk.GetArrayFromImage(sitk.ReadImage(str(out / cases[0]["image"])))
    brain = sitk.GetArrayFromImage(sitk.ReadImage(str(out / cases[0]["brain"]))) > 0
    hypo, hyper = (c for c in cases if c["kind"] == "lesion")
    assert {hypo["variant"], hyper["variant"]} == {"hypo", "hyper"} and hypo["lesion"] == hyper["lesion"]
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(out / hypo["label"]))) > 0
    assert label.sum() > 10 and not (label & ~brain).any()
    dark = sitk.GetArrayFromImage(sitk.ReadImage(str(out / hypo["image"])))
    bright = sitk.GetArrayFromImage(sitk.ReadImage(str(out / hyper["image"])))
    assert dark[label].mean() < clean[label].mean() < bright[label].mean()
    assert np.allclose(dark[~label & (np.abs(dark - clean) > 1e-3)].size / dark.size, 0, atol=0.05)
    for case in cases:
        if case["kind"] in ("motion", "ghosting", "spike"):
            assert not sitk.GetArrayFromImage(sitk.ReadImage(str(out / case["label"]))).any()
            assert case["severity"] in ("mild", "moderate", "severe")


def test_benchmark_command_needs_brain_labels(shared_data, tmp_path, capsys):
    scan, _ = _shrunk_subject(shared_data, tmp_path)
    assert main(["anomaly-benchmark", str(tmp_path / "b"), "--test", str(scan)]) == 2
    assert "--brain-labels" in capsys.readouterr().err
    empty = tmp_path / "no-labels"
    empty.mkdir()
    assert main(["anomaly-benchmark", str(tmp_path / "b"), "--test", str(scan), "--brain-labels", str(empty),
                 "--lesions", str(shared_data / "lesions_mni"),
                 "--template", str(shared_data / "templates" / "avg152T1.nii.gz")]) == 2
    assert "No brain label map" in capsys.readouterr().err

"""The built-in anomaly model end to end on real scans: a real stroke, a held-out healthy subject,
implanted lesions (model vs baseline, computed here), artefact calibration, bad inputs, the CLI."""

import json

import numpy as np
import pytest
import SimpleITK as sitk

from anomaly_helpers import MODEL_ID, brain_of
from medsynth.errors import InputError, ModelError
from medsynth.tasks.anomaly.artefacts import LABELS
from medsynth.tasks.anomaly.task import anomaly_map


def test_stroke_scan_gives_a_finding_at_the_left_hemisphere_lesion(stroke_analysis):
    """The chronic stroke is in the left hemisphere (RAS x < 0) around the posterior left lateral
    ventricle and insula; the model must report a sizeable finding there. (It also reports
    right-hemisphere white matter: see the model README.)"""
    image, before, results = stroke_analysis
    result = results["model"]
    assert np.array_equal(sitk.GetArrayFromImage(image), before), "the input was modified"
    assert result.score.GetSize() == image.GetSize() and result.score.GetOrigin() == image.GetOrigin()
    left = [f for f in result.findings if f.centroid_ras_mm[0] < -10 and f.volume_ml >= 5.0]
    assert left, f"no finding of 5 mL or more in the left hemisphere: {result.findings}"
    lesion = max(left, key=lambda f: f.volume_ml)
    assert -60 < lesion.centroid_ras_mm[1] < 0 and lesion.peak_score > result.threshold + 1.0
    assert result.provenance.model_id == MODEL_ID and result.provenance.parameters["brain_extracted"] is True
    assert result.artefact.label == "none", result.artefact.to_dict()


def test_held_out_healthy_scan_has_no_finding(anomaly_model, held_out_healthy):
    result = anomaly_map(sitk.ReadImage(str(held_out_healthy)), anomaly_model)
    assert result.findings == [], f"findings on a healthy held-out scan: {result.findings}"
    assert result.artefact.label == "none"
    brain = sitk.GetArrayFromImage(result.brain_mask) > 0
    assert 0.8e6 < brain.sum() * 8 < 1.8e6, "the scored brain is not brain-sized (mm³)"


def test_model_beats_the_zscore_baseline_on_implanted_lesions(anomaly_model, shared_data):
    """Two test-split lesion shapes implanted into a held-out subject (hypo and hyper); pooled
    voxel AUPRC and AUROC, both methods on the same alignment. (Dice at the validation threshold
    needs the whole benchmark to be meaningful: Testing/anomaly/evaluate_builtin.py.)"""
    from medsynth.benchmarks.anomaly.build import select_lesions
    from medsynth.benchmarks.anomaly.lesions import LesionImplant, lesion_on_scan
    from medsynth.metrics.anomaly import voxel_auprc, voxel_auroc
    from medsynth.tasks.anomaly.task import analyse_scan
    from medsynth.tasks.anomaly.registration import register_affine
    from medsynth.tasks.masks import head_mask

    scan_path = sorted((shared_data / "subjects_t1").glob("IXI049*.nii.gz"))[0]
    scan = sitk.Cast(sitk.ReadImage(str(scan_path)), sitk.sitkFloat32)
    brain = brain_of(shared_data, scan_path)
    template = sitk.ReadImage(str(shared_data / "templates" / "avg152T1.nii.gz"))
    to_mni = register_affine(scan, template, head_mask(template)).inverse()
    lesion_files = select_lesions(shared_data / "lesions_mni", "test", 4)[:2]
    scores, labels = {"model": [], "baseline": []}, []
    for lesion_file, variant in zip(lesion_files, ("hypo", "hyper")):
        lesion = lesion_on_scan(sitk.ReadImage(str(lesion_file)), scan, to_mni, brain)
        sick = LesionImplant.from_severity(variant, "moderate", seed=1).apply(scan, lesion, brain)
        results = analyse_scan(sick, anomaly_model, ("model", "baseline"))
        for method, result in results.items():
            scores[method].append(sitk.GetArrayFromImage(result.score)[brain])
        labels.append(lesion[brain])
    auprc = {m: voxel_auprc(scores[m], labels) for m in scores}
    auroc = {m: voxel_auroc(scores[m], labels) for m in scores}
    assert auprc["model"] > auprc["baseline"], auprc
    assert auroc["model"] > auroc["baseline"], auroc


@pytest.mark.parametrize("kind", ["spike", "ghosting", "motion"])
def test_card_calibrated_artefact_features_flag_severe_artefacts(anomaly_model, held_out_healthy, kind):
    """The k-space part of the verdict with the card's reference and threshold (no model run needed).
    Spikes and motion get their own label; severe ghosting is sometimes called a spike (its
    periodic k-space also has isolated peaks), so only the flag is required there."""
    from medsynth.benchmarks.anomaly.artefacts import make_artefact
    from medsynth.tasks.anomaly.artefacts import image_features, verdict
    from medsynth.tasks.anomaly.settings import AnomalySettings

    settings = AnomalySettings.from_card(anomaly_model.card)
    image = sitk.ReadImage(str(held_out_healthy))
    clean = verdict(image_features(image, False), settings.artefact_reference, settings.artefact_threshold)
    spoiled = make_artefact(kind, "severe", seed=11).apply(image)
    flagged = verdict(image_features(spoiled, False), settings.artefact_reference, settings.artefact_threshold)
    assert clean.label == "none" and flagged.flagged and flagged.score > clean.score
    if kind != "ghosting":
        assert flagged.label == kind


def test_bad_inputs_fail_with_clear_errors(anomaly_model, committed_head, tmp_path):
    flat = sitk.Image([64, 64], sitk.sitkFloat32)
    with pytest.raises(InputError, match="2D"):
        anomaly_map(flat, anomaly_model)
    ct = sitk.GetImageFromArray(np.full((40, 40, 40), -1000, np.float32))
    ct[10:30, 10:30, 10:30] = 40
    with pytest.raises(InputError, match="CT"):
        anomaly_map(ct, anomaly_model)
    with pytest.raises(InputError, match="same value"):
        anomaly_map(sitk.Image([40, 40, 40], sitk.sitkFloat32), anomaly_model)
    image = sitk.ReadImage(str(committed_head))
    with pytest.raises(InputError, match="threshold"):
        anomaly_map(image, anomaly_model, threshold=float("nan"))
    with pytest.raises(InputError, match="method"):
        anomaly_map(image, anomaly_model, method="vae")
    tiny_mask = sitk.Image(image.GetSize(), sitk.sitkUInt8)
    tiny_mask.CopyInformation(image)
    tiny_mask[0:2, 0:2, 0:2] = 1
    with pytest.raises(InputError, match="brain mask"):
        anomaly_map(image, anomaly_model, brain_mask=tiny_mask)


def test_a_model_of_another_task_is_refused(committed_head):
    from medsynth.models import ModelRegistry
    from medsynth.runtime import OnnxGenerator

    demo = OnnxGenerator(ModelRegistry.default().find("demo-edges"), threads=1)
    with pytest.raises(ModelError, match="not an anomaly model"):
        anomaly_map(sitk.ReadImage(str(committed_head)), demo)


def test_cli_writes_heatmap_findings_and_picture(stroke_t1_2mm, tmp_path, capsys):
    from medsynth.cli import main

    before = stroke_t1_2mm.read_bytes()
    heat, findings, picture = tmp_path / "heat.nii.gz", tmp_path / "findings.json", tmp_path / "overlay.png"
    assert main(["anomaly-map", str(stroke_t1_2mm), str(heat), "--findings", str(findings), "--png", str(picture)]) == 0
    assert stroke_t1_2mm.read_bytes() == before
    data = json.loads(findings.read_text())
    assert data["findings"] and data["artefact"]["label"] in LABELS and data["threshold"] > 0
    assert sitk.ReadImage(str(heat)).GetSize() == sitk.ReadImage(str(stroke_t1_2mm)).GetSize()
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "finding(s)" in capsys.readouterr().out


def test_cli_refuses_bad_requests_before_working(stroke_t1_2mm, tmp_path, capsys):
    from medsynth.cli import main

    assert main(["anomaly-map", str(stroke_t1_2mm), str(stroke_t1_2mm)]) == 2
    assert "never overwrites an input" in capsys.readouterr().err
    assert main(["anomaly-map", str(stroke_t1_2mm), str(tmp_path / "h.nii.gz"), "--findings", str(tmp_path / "f.txt")]) == 2
    assert ".json or .csv" in capsys.readouterr().err
    assert main(["anomaly-map", str(tmp_path / "missing.nii.gz"), str(tmp_path / "h.nii.gz")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["evaluate", "anomaly", str(tmp_path / "nothing")]) == 2
    assert "Input not found" in capsys.readouterr().err


def test_the_same_scan_twice_gives_byte_identical_outputs(test_data, tmp_path):
    """Two separate CLI processes (outside batch mode, so ITK would be free to use every core) on
    the committed clinical scan with skull: the heat map and the findings must match byte for byte."""
    import subprocess
    import sys

    scan = test_data / "head_mr_skull_2mm.nii.gz"
    outputs = []
    for run in ("a", "b"):
        heat, findings = tmp_path / f"heat_{run}.nii.gz", tmp_path / f"findings_{run}.json"
        subprocess.run([sys.executable, "-m", "medsynth", "anomaly-map", str(scan), str(heat),
                        "--findings", str(findings)], check=True, capture_output=True)
        outputs.append((heat.read_bytes(), findings.read_bytes()))
    assert outputs[0][0] == outputs[1][0], "the heat maps differ between two runs"
    assert outputs[0][1] == outputs[1][1], "the findings differ between two runs"

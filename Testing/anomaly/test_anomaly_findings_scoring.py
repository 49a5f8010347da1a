"""Findings (volumes, RAS positions, files), residual scoring and the artefact verdict, on known inputs."""

import csv
import io
import json

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.errors import InputError
from medsynth.tasks.anomaly.artefacts import (ArtefactVerdict, blur_feature, ghosting_feature, reference_statistics,
                                              spike_feature, verdict)
from medsynth.tasks.anomaly.findings import find_findings, findings_csv, label_findings, write_findings
from medsynth.tasks.anomaly.scoring import (contrast_structure, healthy_score, residual_map, smoothed_residual,
                                            zscore_baseline)


def _score_map() -> sitk.Image:
    """Two blobs on an oblique, anisotropic grid: 4×4×4 voxels of score 5 and a single voxel of 9."""
    values = np.zeros((20, 30, 40), np.float32)
    values[5:9, 10:14, 20:24] = 5.0
    values[5, 10, 20] = 6.0
    values[15, 25, 5] = 9.0
    image = sitk.GetImageFromArray(values)
    image.SetSpacing((1.0, 2.0, 3.0))
    image.SetOrigin((10.0, -20.0, 5.0))
    angle = np.deg2rad(20)
    image.SetDirection((np.cos(angle), -np.sin(angle), 0, np.sin(angle), np.cos(angle), 0, 0, 0, 1))
    return image


def test_findings_measure_volume_peak_and_position_in_ras_mm():
    image = _score_map()
    findings = find_findings(image, threshold=4.0, min_volume_ml=0.1)
    assert len(findings) == 1  # the single 6 mm³ voxel is below 0.1 mL
    finding = findings[0]
    assert finding.voxels == 64 and finding.volume_ml == pytest.approx(64 * 6 / 1000)
    assert finding.peak_score == 6.0 and finding.mean_score == pytest.approx((63 * 5 + 6) / 64)
    centre_index = (21.5, 11.5, 6.5)  # i, j, k of the block's centre
    lps = np.array(image.TransformContinuousIndexToPhysicalPoint(centre_index))
    assert np.allclose(finding.centroid_ras_mm, lps * [-1, -1, 1], atol=0.01)
    peak_lps = np.array(image.TransformIndexToPhysicalPoint((20, 10, 5)))
    assert np.allclose(finding.peak_ras_mm, peak_lps * [-1, -1, 1], atol=0.01)
    assert finding.bbox_ijk_min == (20, 10, 5) and finding.bbox_ijk_max == (23, 13, 8)
    assert all(lo <= c <= hi for lo, c, hi in zip(finding.bbox_ras_min_mm, finding.centroid_ras_mm, finding.bbox_ras_max_mm))
    both = find_findings(image, threshold=4.0, min_volume_ml=0.0)
    assert [f.peak_score for f in both] == [9.0, 6.0] and [f.id for f in both] == [1, 2]


def test_label_image_numbers_the_findings_and_region_restricts_them():
    image = _score_map()
    findings, labels = label_findings(image, 4.0, 0.0)
    voxels = sitk.GetArrayFromImage(labels)
    assert voxels[15, 25, 5] == 1 and voxels[6, 11, 21] == 2 and np.count_nonzero(voxels == 2) == findings[1].voxels
    region = sitk.Image(image.GetSize(), sitk.sitkUInt8)
    region.CopyInformation(image)
    region[0:40, 0:30, 0:10] = 1  # k < 10 only: the large blob at k = 5..8
    assert [f.peak_score for f in find_findings(image, 4.0, 0.0, region)] == [6.0]
    with pytest.raises(InputError, match="finite"):
        find_findings(image, float("nan"))


def test_findings_files_json_and_csv(tmp_path):
    findings = find_findings(_score_map(), 4.0, 0.0)
    path = write_findings(findings, tmp_path / "f.json", {"threshold": 4.0})
    data = json.loads(path.read_text())
    assert data["threshold"] == 4.0 and len(data["findings"]) == 2 and data["findings"][0]["volume_ml"] > 0
    rows = list(csv.DictReader(io.StringIO(findings_csv(findings))))
    assert float(rows[1]["centroid_ras_mm_s"]) == pytest.approx(findings[1].centroid_ras_mm[2])
    write_findings(findings, tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_text().startswith("id,volume_ml")
    stamp = "outside the validated domain: contrast T2 (validated: T1)"
    for rows_written in (findings, []):
        write_findings(rows_written, tmp_path / "stamped.csv", {"outside_domain": stamp})
        lines = (tmp_path / "stamped.csv").read_text().splitlines()
        assert lines[0] == f"# {stamp}" and lines[1].startswith("id,volume_ml") and len(lines) == 2 + len(rows_written)
    with pytest.raises(InputError, match=r"\.json or \.csv"):
        write_findings(findings, tmp_path / "f.txt")


def test_residual_and_score_are_zero_for_a_perfect_reconstruction_and_grow_with_a_blob():
    rng = np.random.default_rng(0)
    healthy = rng.uniform(0.2, 0.8, (24, 24, 24)).astype(np.float32)
    sick = healthy.copy()
    sick[8:16, 8:16, 8:16] += 0.4
    region = np.ones(healthy.shape, bool)
    assert np.allclose(residual_map(healthy, healthy, "l1+ssim"), 0, atol=1e-5)
    assert np.allclose(contrast_structure(healthy, healthy), 1, atol=1e-5)
    residual = smoothed_residual(residual_map(sick, healthy, "l1"), region, 5)
    mean, sd = np.full(healthy.shape, 0.05, np.float32), np.full(healthy.shape, 0.1, np.float32)
    score = healthy_score(residual, mean, sd, region)
    assert score[12, 12, 12] == pytest.approx((0.4 - 0.05) / 0.1, rel=1e-4)
    assert score[2, 2, 2] == pytest.approx(-0.5)
    baseline = zscore_baseline(sick, healthy, sd, region)
    assert baseline[12, 12, 12] == pytest.approx(4.0, rel=1e-4) and baseline[2, 2, 2] == 0
    with pytest.raises(ValueError):
        residual_map(healthy, healthy, "perceptual")


def test_kspace_features_respond_to_their_artefact():
    rng = np.random.default_rng(1)
    smooth = np.fft.ifftn(np.fft.fftn(rng.standard_normal((32, 32, 32))) *
                          np.exp(-sum(np.square(a) for a in np.meshgrid(*[np.fft.fftfreq(32)] * 3, indexing="ij")) * 60)).real
    magnitude = np.abs(np.fft.fftshift(np.fft.fftn(smooth)))
    spiked = magnitude.copy()
    spiked[28, 5, 9] *= 1000
    assert spike_feature(spiked) > spike_feature(magnitude) + 3
    ghosted = magnitude.copy()
    ghosted[:, ::3, :] *= 0.3
    assert ghosting_feature(ghosted) > 2 * ghosting_feature(magnitude)
    assert 0 < blur_feature(magnitude) < 1


def test_verdict_labels_with_specific_features_first():
    reference = reference_statistics([{"spike": 1.6 + d, "ghosting": 2.1 + d, "residual": d, "blur": 0.7 + d / 10}
                                      for d in (-0.1, 0.0, 0.1)])
    clean = verdict({"spike": 1.6, "ghosting": 2.1, "residual": 0.0, "blur": 0.7}, reference, 5.0)
    assert clean.label == "none" and not clean.flagged and "No acquisition artefact" in clean.message()
    both = verdict({"spike": 9.0, "ghosting": 9.0, "residual": 3.0, "blur": 0.7}, reference, 5.0)
    assert both.label == "spike" and both.score == max(both.z_scores.values())
    blurred = verdict({"spike": 1.6, "ghosting": 2.1, "residual": 0.0, "blur": 0.9}, reference, 5.0)
    assert blurred.label == "motion" and "motion" in blurred.message()
    assert isinstance(blurred, ArtefactVerdict) and blurred.to_dict()["z_scores"]["blur"] > 5


def test_reference_spread_spans_every_domain_not_only_the_largest():
    one_site = [{"blur": 0.75 + d} for d in (-0.01, 0.0, 0.0, 0.01, 0.02)]
    templates = [{"blur": 0.95}, {"blur": 0.87}]
    domains = ["site"] * 5 + ["avg152", "colin27"]
    pooled = reference_statistics(one_site + templates)
    by_domain = reference_statistics(one_site + templates, domains)
    assert by_domain["blur"][0] == pooled["blur"][0]  # the same median
    assert by_domain["blur"][1] > 5 * pooled["blur"][1]  # the templates' distance from the site widens the spread
    # A template's own clean scan is no longer an outlier; one site alone keeps its narrow spread.
    assert verdict({"blur": 0.95}, pooled, 4.0).label == "motion"
    assert verdict({"blur": 0.95}, by_domain, 4.0).label == "none"
    assert reference_statistics(one_site, ["site"] * 5) == reference_statistics(one_site)
    with pytest.raises(ValueError, match="one domain per sample"):
        reference_statistics(one_site, ["site"])

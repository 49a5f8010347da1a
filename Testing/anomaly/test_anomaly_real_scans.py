"""The every-real-scan evaluation: roles follow the built-in model's card, the FLAIR reference
outline finds a bright lesion, and the table has one row per scan."""

import numpy as np
import SimpleITK as sitk

from medsynth.benchmarks.anomaly.real_scans import intensity_score, markdown_table, real_scans, reference_outline


def test_roles_follow_the_cards_split(shared_data):
    roles = {scan.name: scan.role for scan in real_scans(shared_data)}
    assert roles["subjects_t1/IXI014"] == "used-for-calibration"
    assert roles["subjects_t1/IXI049"] == roles["subjects_t1/IXI051"] == "untouched"
    assert roles["subjects_t1/IXI012"] == roles["templates/avg152T1"] == "used-in-training"
    assert roles["stroke/T1"] == roles["brats_glioma/t1n"] == "untouched"


def test_reference_outline_is_the_bright_blob_grown_by_two_mm():
    rng = np.random.default_rng(0)
    flair = rng.normal(100.0, 5.0, (40, 40, 40)).astype(np.float32)
    flair[18:23, 18:23, 18:23] = 300.0
    image = sitk.GetImageFromArray(flair)
    brain = sitk.GetImageFromArray(np.ones((40, 40, 40), np.uint8))
    outline = reference_outline(image, brain)
    assert outline[20, 20, 20] and outline[16, 20, 20] and not outline[15, 20, 20] and not outline[5, 5, 5]


def test_markdown_table_has_one_row_per_scan():
    rows = [{"scan": "a", "role": "untouched", "content": "healthy", "findings": 0, "total_ml": 0.0,
             "artefact": "none", "top_ml": None, "top_on_reference": None},
            {"scan": "b", "role": "untouched", "content": "glioma", "findings": 2, "total_ml": 40.0,
             "artefact": "none", "top_ml": 30.0, "top_on_reference": True, "auroc_model": 0.9,
             "auroc_baseline": 0.6, "auroc_intensity": 0.7, "auprc_model": 0.3, "auprc_baseline": 0.1,
             "auprc_intensity": 0.2, "other_ml": 10.0, "dice": 0.5,
             "false_findings": 1}]
    lines = markdown_table(rows).splitlines()
    assert len(lines) == 4
    assert "| b | untouched | glioma | 2 | 40.0 | 30.0 | yes | 10.0 | none | 0.9 / 0.6 / 0.7 | 0.3 / 0.1 / 0.2 | 0.5 | 1 |" in lines


def test_raw_intensity_baseline_scores_dark_and_bright_tissue_on_the_masks_grid():
    voxels = np.full((30, 30, 30), 100.0, np.float32)
    voxels[5:10, 5:10, 5:10], voxels[20:25, 20:25, 20:25] = 40.0, 180.0
    image = sitk.GetImageFromArray(voxels)
    brain = sitk.GetImageFromArray(np.pad(np.ones((28, 28, 28), np.uint8), 1))
    score = intensity_score(image, brain)
    assert score.shape == voxels.shape
    assert score[7, 7, 7] == 60.0 and score[22, 22, 22] == 80.0 and score[15, 15, 15] == 0.0

"""deepbet's brain extraction in onnxruntime: brain-sized masks with and without skull, the scan's
grid, the input untouched, and the same mask as deepbet's own torch pipeline."""

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.tasks.anomaly.brain_net import brain_mask


@pytest.mark.parametrize("scan", ["head_mr_skull_2mm.nii.gz", "stroke_2mm/T1.nii.gz"])
def test_brain_mask_is_brain_sized_on_the_scan_grid(test_data, scan):
    """A whole head (skull on) and a skull-stripped oblique stroke scan, both real and committed."""
    image = sitk.ReadImage(str(test_data / scan))
    before = sitk.GetArrayFromImage(image).copy()
    mask = brain_mask(image)
    assert np.array_equal(sitk.GetArrayFromImage(image), before), "the input was modified"
    assert mask.GetSize() == image.GetSize() and mask.GetDirection() == image.GetDirection()
    litres = sitk.GetArrayFromImage(mask).sum() * np.prod(image.GetSpacing()) / 1e6
    assert 0.9 < litres < 2.1, f"{litres:.2f} L is not an adult brain"


def test_onnx_pipeline_matches_deepbet_torch(shared_data, tmp_path):
    bet = pytest.importorskip("deepbet.bet", reason="deepbet (training extra) not installed")
    scan = shared_data / "head_mr_skull" / "MR.nii.gz"
    bet.BrainExtraction(no_gpu=True).run(str(scan), mask_path=str(tmp_path / "ref.nii.gz"))
    reference = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "ref.nii.gz"))) > 0
    ours = sitk.GetArrayFromImage(brain_mask(sitk.ReadImage(str(scan)))) > 0
    dice = 2 * (reference & ours).sum() / (reference.sum() + ours.sum())
    assert dice > 0.999, dice

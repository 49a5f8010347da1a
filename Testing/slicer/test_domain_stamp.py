"""The outside-domain stamp through the real MRML scene: refused without opt-in, node attributes and
DICOM Series Description with it, and the report text a module shows before Apply."""

import importlib.util
from pathlib import Path

import pydicom
import pytest
import SimpleITK as sitk

from medsynth.domain import OutsideDomainError
from medsynth.io import read_image
from medsynth.models import ModelRegistry
from model_factory import install_model, pointwise_graph

DOMAIN = {"modality": "MR", "contrasts": ["T1"], "skull": "required", "measured_on": "whole-head T1 (test)"}


@pytest.fixture
def logic(tmp_path):
    from MedSynthCTLib.logic import SynthCTLogic

    install_model(tmp_path / "models" / "sct", pointwise_graph(scale=1.0, offset=0.0, patch=(32, 32, 32)),
                  id="test-sct-domain", task="synth-ct", domain=DOMAIN,
                  input={"modality": "MR", "orientation": "native", "spacing_mm": "native",
                         "normalization": {"scheme": "percentile", "target_range": [0, 1]}},
                  outputs=[{"name": "ct", "units": "HU", "scale": 1000.0, "offset": -1024.0, "clip": [-1024, 3000],
                            "background_value": -1024}],
                  inference={"patch_size": [32, 32, 32], "overlap": 0.25, "batch_size": 2})
    return SynthCTLogic(ModelRegistry([("test", tmp_path / "models")]))


@pytest.fixture
def brain_node(headless, tmp_path):
    from MedSynthLib.scene_files import load_volume

    spec = importlib.util.find_spec("nilearn")
    if spec is None:
        pytest.skip("nilearn is not installed")
    path = Path(spec.origin).parent / "datasets" / "data" / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
    small = tmp_path / "brain.nii.gz"
    sitk.WriteImage(sitk.Shrink(read_image(path), [2, 2, 2]), str(small))
    return load_volume(headless.scene, small, "Brain")


def test_refused_without_opt_in_and_stamped_on_the_node_and_dicom_with_it(headless, logic, brain_node, tmp_path):
    report = logic.domainReport(brain_node)
    assert "brain-extracted" in report and "Outside the validated domain of test-sct-domain" in report
    with pytest.raises(OutsideDomainError, match="brain-extracted"):
        logic.run(brain_node)
    result = logic.run(brain_node, allowOutsideDomain=True)
    stamp = result.sct.GetAttribute("MedSynth.OutsideDomain")
    assert stamp and stamp.startswith("outside the validated domain: ")
    assert brain_node.GetAttribute("MedSynth.OutsideDomain") is None  # the input is untouched
    written = logic.exportDicom(result.sct, tmp_path / "dicom")
    first = pydicom.dcmread(written.files[0])
    assert first.SeriesDescription.startswith("SYNTHETIC OUTSIDE VALIDATED DOMAIN")
    assert "outside the validated domain" in str(first.DerivationDescription)

"""The domain gate on real scans: what it measures, what it refuses (with what message), and the
stamp an opted-in run carries into provenance, pictures and DICOM."""

import subprocess
import sys

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from medsynth.domain import OutsideDomainError, enforce_domain, measure_domain
from medsynth.errors import InputError, ModelError
from medsynth.io import read_image, write_image
from medsynth.models import ModelRegistry, parse_card

MR_MODELS = ("synthct-head", "future-t1-brain", "anomaly-brain-t1")


def card(model_id):
    return ModelRegistry.default().find(model_id).card


def test_every_builtin_card_states_its_domain():
    for entry in ModelRegistry.default().entries():
        assert entry.card.domain is not None, entry.card.id
    assert card("synthct-head").domain.skull == "required"
    assert card("synthct-head").domain.contrasts == ("T1",)


def test_a_broken_domain_block_is_refused():
    data = dict(card("synthct-head").raw)
    data["domain"] = {**data["domain"], "skull": "sometimes"}
    with pytest.raises(ModelError, match="card.domain.skull"):
        parse_card(data)
    data["domain"] = {**card("synthct-head").raw["domain"], "spacing_mm": [3.0, 1.0]}
    with pytest.raises(ModelError, match="card.domain.spacing_mm"):
        parse_card(data)


def test_skull_stripped_brain_is_measured_as_such_and_refused_by_synthetic_ct(brain_extracted_t1):
    report = measure_domain(brain_extracted_t1)
    assert (report.modality, report.contrast, report.skull) == ("MR", "T1", False)
    assert report.snr > 0 and report.field_of_view_mm[0] > 150
    with pytest.raises(OutsideDomainError) as caught:
        enforce_domain(brain_extracted_t1, card("synthct-head"))
    message = str(caught.value)
    assert "brain-extracted T1" in message and "whole head, skull and scalp included" in message
    assert "--outside-domain" in message and isinstance(caught.value, InputError)
    assert enforce_domain(brain_extracted_t1, card("anomaly-brain-t1")).inside  # skull: any


def test_whole_head_t1_from_another_scanner_is_accepted(whole_head_t1):
    report = measure_domain(whole_head_t1)
    assert (report.contrast, report.skull) == ("T1", True)
    for model_id in MR_MODELS:
        check = enforce_domain(whole_head_t1, card(model_id))
        assert check.inside and check.stamp is None


def test_ct_is_refused_by_every_mr_model_even_with_opt_in(test_data):
    ct = read_image(test_data / "scct_hu.nii.gz")
    assert measure_domain(ct).modality == "CT"
    for model_id in MR_MODELS:
        with pytest.raises(OutsideDomainError, match="not even with --outside-domain"):
            enforce_domain(ct, card(model_id), allow_outside=True)


@pytest.mark.parametrize("relative, contrast", [("stroke_2mm/T2.nii.gz", "T2"), ("stroke_2mm/FLAIR.nii.gz", "FLAIR")])
def test_t2_and_flair_are_refused_by_t1_models(test_data, relative, contrast):
    image = read_image(test_data / relative)
    for model_id in MR_MODELS:
        with pytest.raises(OutsideDomainError, match=f"{contrast} contrast"):
            enforce_domain(image, card(model_id))


def test_opt_in_run_is_stamped_in_provenance_metadata_and_dicom(brain_extracted_t1, tmp_path):
    from medsynth.io.dicom_export import export_sct_dicom
    from medsynth.tasks.synthct import synth_ct

    small = sitk.Shrink(brain_extracted_t1, [2, 2, 2])
    result = synth_ct(small, allow_outside=True)
    stamp = result.provenance.outside_domain
    assert stamp.startswith("outside the validated domain: ") and "brain-extracted" in stamp
    assert result.ct.GetMetaData("MedSynth.OutsideDomain") == stamp
    written = export_sct_dicom(result.ct, tmp_path / "dicom")
    first = pydicom.dcmread(written.files[0])
    assert "SYNTHETIC" in first.SeriesDescription and "OUTSIDE VALIDATED DOMAIN" in first.SeriesDescription
    assert stamp[:40] in first.DerivationDescription or "OutsideDomain" in str(first)


def test_cli_refuses_in_one_line_and_runs_with_the_flag(brain_extracted_t1, tmp_path):
    source = write_image(sitk.Shrink(brain_extracted_t1, [2, 2, 2]), tmp_path / "brain.nii.gz")
    before = source.read_bytes()
    refused = subprocess.run([sys.executable, "-m", "medsynth", "synth-ct", str(source), str(tmp_path / "a.nii.gz")],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().count("\n") == 0 and "brain-extracted" in refused.stderr
    assert not (tmp_path / "a.nii.gz").exists()
    ran = subprocess.run([sys.executable, "-m", "medsynth", "synth-ct", str(source), str(tmp_path / "b.nii.gz"),
                          "--outside-domain", "--provenance", str(tmp_path / "p.json")], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert "outside the validated domain" in ran.stderr and "outside the validated domain" in (tmp_path / "p.json").read_text()
    assert source.read_bytes() == before


def test_outside_domain_pictures_carry_a_caption_band():
    from medsynth.render import with_banner

    picture = np.zeros((60, 400, 3), np.uint8)
    captioned = with_banner(picture)
    band = captioned[: captioned.shape[0] - 60]
    assert band.shape[0] > 0 and (band[..., 0] == 190).any() and (band == 255).all(axis=-1).any()
    assert np.array_equal(captioned[band.shape[0]:], picture)


def test_info_prints_the_domain_report(brain_extracted_t1, tmp_path):
    source = write_image(sitk.Shrink(brain_extracted_t1, [2, 2, 2]), tmp_path / "brain.nii.gz")
    out = subprocess.run([sys.executable, "-m", "medsynth", "info", str(source)], capture_output=True, text=True)
    assert out.returncode == 0 and "Looks like: a brain-extracted T1-weighted MR" in out.stdout


def test_cli_nifti_output_says_synthetic_and_outside_in_its_header(brain_extracted_t1, tmp_path):
    """A NIfTI sCT has no attributes but its 80-character descrip field: it must carry the marks."""
    import nibabel

    source = write_image(sitk.Shrink(brain_extracted_t1, [2, 2, 2]), tmp_path / "brain.nii.gz")
    ran = subprocess.run([sys.executable, "-m", "medsynth", "synth-ct", str(source), str(tmp_path / "sct.nii.gz"),
                          "--outside-domain"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    note = bytes(nibabel.load(tmp_path / "sct.nii.gz").header["descrip"]).decode()
    assert note.startswith("OUTSIDE VALIDATED DOMAIN; SYNTHETIC MedSynth synthct-head"), note


def test_batch_outside_domain_flag_runs_and_stamps_only_what_is_outside(brain_extracted_t1, whole_head_t1, tmp_path):
    """Without the flag the skull-stripped case fails (one line) and the whole head runs; with it both
    run, and only the skull-stripped case's sCT says it is outside the validated domain."""
    import nibabel

    cases = tmp_path / "cases"
    cases.mkdir()
    write_image(sitk.Shrink(brain_extracted_t1, [2, 2, 2]), cases / "stripped.nii.gz")
    write_image(sitk.Shrink(whole_head_t1, [2, 2, 2]), cases / "head.nii.gz")
    plain = subprocess.run([sys.executable, "-m", "medsynth", "batch", "synth-ct", str(cases), str(tmp_path / "a")],
                           capture_output=True, text=True)
    assert plain.returncode == 1 and "stripped" in plain.stdout and "brain-extracted" in plain.stdout
    assert (tmp_path / "a" / "head_sct.nii.gz").is_file() and not (tmp_path / "a" / "stripped_sct.nii.gz").exists()
    ran = subprocess.run([sys.executable, "-m", "medsynth", "batch", "synth-ct", str(cases), str(tmp_path / "b"),
                          "--outside-domain"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    notes = {name: bytes(nibabel.load(tmp_path / "b" / f"{name}_sct.nii.gz").header["descrip"]).decode()
             for name in ("stripped", "head")}
    assert notes["stripped"].startswith("OUTSIDE VALIDATED DOMAIN; SYNTHETIC") and notes["head"].startswith("SYNTHETIC")

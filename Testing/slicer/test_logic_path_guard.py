"""The Slicer module logic goes through the command line's path guard (medsynth.io.guard): an export
or report that would replace an input, land in a system location or under a file is refused with the
guard's message before anything is written, and the inputs are left as they were."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from medsynth.errors import InputError
from test_reader_logic import folders, make_session, session_dir  # noqa: F401  (fixtures and helper)


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_lead_exports_and_reports_are_guarded(session_dir, tmp_path):  # noqa: F811
    from MedSynthReaderLib.lead import LeadLogic
    from medsynth.reading.key import default_key_path

    lead, key = LeadLogic(), default_key_path(session_dir)
    (tmp_path / "afile").write_text("not a folder\n")
    before = _tree(session_dir.parent)
    for destination, words in [(key, "never overwrites an input"), ("/proc/answers.csv", "system location"),
                               (tmp_path / "afile" / "a.csv", "is a file, not a folder"),
                               (session_dir / "session.sqlite", "must end with .csv or .json")]:
        with pytest.raises(InputError, match=words):
            lead.exportAnswers(session_dir, destination, withTruth=True)
    for report, words in [(key, "must end with"), ("/proc/r.html", "system location"),
                          (tmp_path / "afile" / "r.html", "is a file, not a folder")]:
        with pytest.raises(InputError, match=words):
            lead.analyzeSession(session_dir, reportPath=report)
    assert _tree(session_dir.parent) == before  # the key and the session unchanged, nothing written


def test_a_session_inside_its_image_folder_is_refused(folders, tmp_path):  # noqa: F811
    from MedSynthReaderLib.lead import LeadLogic

    real, synthetic = folders
    before = _tree(real)
    with pytest.raises(InputError, match="lies inside the input folder"):
        LeadLogic().createSession(real, [synthetic], real / "session")
    with pytest.raises(InputError, match=r"Input not found: .*\(realFolder\)"):
        LeadLogic().createSession(tmp_path / "nothere", [synthetic], tmp_path / "s")
    assert _tree(real) == before and not (real / "session").exists() and not (tmp_path / "s").exists()


def test_dicom_export_from_the_ct_logic_is_guarded(headless, tmp_path):
    from MedSynthCTLib.logic import SynthCTLogic
    from MedSynthLib.volume_bridge import image_to_node
    from medsynth.io.dicom_export import export_sct_dicom
    import numpy as np
    import SimpleITK as sitk

    values = np.full((8, 8, 8), -1000.0, np.float32)
    values[2:6, 2:6, 2:6] = 40.0
    ct = sitk.GetImageFromArray(values)
    node = image_to_node(ct, headless.scene, "sCT")
    node.SetAttribute("MedSynth.Synthetic", "YES")
    sitk.WriteImage(ct, str(tmp_path / "ct.nii.gz"))
    export_sct_dicom(tmp_path / "ct.nii.gz", tmp_path / "reference")
    (tmp_path / "afile").write_text("not a folder\n")
    before = _tree(tmp_path)
    logic = SynthCTLogic()
    for folder, reference, words in [("/proc/medsynth_dicom", None, "system location"),
                                     (tmp_path / "afile", None, "it is a file"),
                                     (tmp_path / "reference", tmp_path / "reference", "input folder"),
                                     (tmp_path / "reference" / "sct", tmp_path / "reference", "input folder"),
                                     (tmp_path / "out", tmp_path / "nothere", "Input not found")]:
        with pytest.raises(InputError, match=words):
            logic.exportDicom(node, folder, referenceSeries=reference)
    assert _tree(tmp_path) == before and not (tmp_path / "out").exists()
    assert len(logic.exportDicom(node, tmp_path / "out").files) == 8  # a good folder still works

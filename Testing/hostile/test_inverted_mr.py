"""The negated/inverted-MR check (medsynth.qa.check_not_inverted) flags the committed real head MR
only once it is negated or inverted, and no MR of the corpus as acquired (its thresholds were set
before looking at these files: every file here is untouched by the choice)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import SimpleITK as sitk

from bad_inputs import HEAD_MR
from medsynth.errors import InputError
from medsynth.qa import check_not_inverted


def _variants(image: sitk.Image) -> dict[str, sitk.Image]:
    as_float = sitk.Cast(image, sitk.sitkFloat32)
    return {"as acquired": image, "negated": -as_float,
            "inverted": float(sitk.GetArrayViewFromImage(as_float).max()) - as_float}


def _check(image: sitk.Image) -> dict[str, bool]:
    flagged = {}
    for name, variant in _variants(image).items():
        try:
            check_not_inverted(variant)
            flagged[name] = False
        except InputError as exc:
            assert "intensities look negated/inverted" in str(exc) and "np.float" not in str(exc)
            flagged[name] = True
    return flagged


def test_committed_head_only_flagged_when_negated_or_inverted():
    assert _check(sitk.ReadImage(str(HEAD_MR))) == {"as acquired": False, "negated": True, "inverted": True}


def test_corpus_mr_volumes(shared_data: Path):
    with (shared_data / "DOMAINS.tsv").open() as handle:
        paths = [shared_data / row["path"] for row in csv.DictReader(handle, delimiter="\t") if row["modality"] == "MR"]
    paths += sorted((shared_data / "subjects_t1").glob("*-T1_ds.nii.gz"))
    files = [p for p in paths if p.is_file()]
    if not files:
        pytest.skip("no MR volume files in the corpus")
    wrong = {str(p.relative_to(shared_data)): flags for p in files
             if (flags := _check(sitk.ReadImage(str(p)))) != {"as acquired": False, "negated": True, "inverted": True}}
    print(f"{len(files)} corpus MR volumes checked, {len(wrong)} misjudged")
    assert not wrong

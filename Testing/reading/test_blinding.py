"""Blinding: nothing a reader's software is shown or can open reveals real vs synthetic.

The study is built the way an administrator would, from a folder of real IXI T1 scans and a
folder of "synthetic" (smoothed) versions whose names, pixel type and header text all give the
truth away. The tests then scan everything on the reader's side for those giveaways.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest
import SimpleITK as sitk

from medsynth.reading import CaseView, ReadingSession, build_session, read_key, study_from_folders
from medsynth.reading.create import image_stem

OPAQUE = re.compile(r"^case-[0-9a-f]{10}$")
#: NIfTI header fields that are not geometry: they must be identical in every blinded file.
NON_GEOMETRY_KEYS = ("datatype", "bitpix", "descrip", "aux_file", "intent_name", "intent_code", "cal_min",
                     "cal_max", "scl_slope", "scl_inter", "qform_code", "sform_code", "xyzt_units",
                     "ITK_FileNotes", "nifti_type")


@pytest.fixture
def blind_study(t1_folders, tmp_path):
    real_dir, synth_dir = t1_folders
    study = study_from_folders(real_dir, {"smoothgan": synth_dir}, study_id="blinding", readers=["r1", "r2"],
                               seed=99, pair_by_name=True, allow_revisit=True)
    built = build_session(study, tmp_path / "session")
    stems = [image_stem(c.image) for c in study.cases]
    giveaways = set(stems) | {c.case_id for c in study.cases} | {c.pair for c in study.cases if c.pair}
    giveaways |= {real_dir.name, synth_dir.name, "smoothgan", "IXI"}
    return study, built, sorted(giveaways)


def _leaks(text: str, giveaways, words=("real", "synth")) -> list[str]:
    lowered = text.lower().replace("medsynth", "")  # the product's own name is not a giveaway
    return [g for g in list(giveaways) + list(words) if g.lower() in lowered]


def _all_views(session_dir: Path, reader: str) -> list[CaseView]:
    views = []
    with ReadingSession.open(session_dir, reader) as session:
        view = session.next_case()
        while view is not None:
            views.append(view)
            session.answer(view.case_id, {"call": {"choice": "real", "confidence": 3}, "realism": 3})
            view = session.next_case()
        views += [session.go_to(i) for i in range(len(session.order))]  # revisited views too
    return views


def test_the_scanner_finds_giveaways_where_they_are(blind_study, t1_folders):
    """Positive control: the same checks flag the truth key and the source files."""
    study, built, giveaways = blind_study
    assert _leaks(built.key_path.read_text(), giveaways)
    synthetic_source = next(c.image for c in study.cases if c.truth == "synthetic")
    source = sitk.ReadImage(str(synthetic_source))
    assert _leaks(" ".join(source.GetMetaData(k) for k in source.GetMetaDataKeys()), giveaways)
    assert _leaks(str(synthetic_source), giveaways)
    real_source = sitk.ReadImage(str(next(c.image for c in study.cases if c.truth == "real")))
    assert real_source.GetPixelID() != source.GetPixelID()  # the pixel type alone would tell


def test_case_views_show_only_opaque_ids(blind_study):
    study, built, giveaways = blind_study
    assert {f.name for f in dataclasses.fields(CaseView)} == {
        "case_id", "position", "total", "image_path", "window", "level", "questions", "previous_answers",
        "node_name", "attributes"}
    for reader in ("r1", "r2"):
        views = _all_views(built.session_dir, reader)
        assert len(views) == 2 * len(study.cases)
        for view in views:
            assert OPAQUE.match(view.case_id)
            assert view.node_name == view.case_id
            relative = view.image_path.relative_to(built.session_dir)
            assert relative.as_posix() == f"images/{view.case_id}.nii"
            shown = [view.case_id, view.node_name, relative.as_posix(), *view.attributes, *view.attributes.values()]
            assert not _leaks(" ".join(shown), giveaways), shown
            assert set(view.attributes) == {"MedSynth.Reading.CaseId", "MedSynth.Reading.Position"}
            assert (view.window, view.level) == (None, None)


def test_blinded_images_carry_no_names_header_text_type_or_dates(blind_study):
    study, built, giveaways = blind_study
    images = sorted((built.session_dir / "images").iterdir())
    assert len(images) == len(study.cases)
    non_geometry = set()
    mtimes = set()
    for path in images:
        assert OPAQUE.match(path.name[: -len(".nii")])
        image = sitk.ReadImage(str(path))
        assert image.GetPixelID() == sitk.sitkInt16
        meta = {k: image.GetMetaData(k) for k in image.GetMetaDataKeys()}
        assert not _leaks(json.dumps(meta), giveaways), meta
        non_geometry.add(tuple((k, meta.get(k)) for k in NON_GEOMETRY_KEYS))
        header = path.read_bytes()[:352]
        assert not _leaks(header.decode("latin-1"), giveaways)
        mtimes.add(path.stat().st_mtime)
    assert len(non_geometry) == 1, "header fields differ between blinded files"
    assert len(mtimes) == 1, "file dates differ between blinded files"


def test_database_and_order_files_hold_no_truth(blind_study):
    study, built, giveaways = blind_study
    conn = sqlite3.connect(built.database)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        columns = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        assert columns["cases"] == ["case_id", "image", "window", "level"]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):
                if table == "meta" and row[0] == "questions":
                    # question wording may say "real or synthetic", but nothing case-specific
                    assert not _leaks(row[1], giveaways, words=())
                    continue
                assert not _leaks(json.dumps(row), giveaways), (table, row)
        # rows are stored in opaque-id order, not in the study's (truth-sorted) order
        stored = [r[0] for r in conn.execute("SELECT case_id FROM cases")]
        assert stored == sorted(stored)
    finally:
        conn.close()
    assert not _leaks(built.database.read_bytes().decode("latin-1"), giveaways, words=())
    for order_file in (built.session_dir / "orders").iterdir():
        text = order_file.read_text()
        assert not _leaks(text, giveaways), text
        assert all(OPAQUE.match(c) for c in json.loads(text)["order"])
    listing = [p.relative_to(built.session_dir).as_posix() for p in built.session_dir.rglob("*")]
    assert not _leaks(" ".join(listing), giveaways), listing
    assert not built.key_path.is_relative_to(built.session_dir)


_OPENED: list[str] = []
_RECORDING = [False]


def _audit(event: str, args: tuple) -> None:
    if _RECORDING[0] and event in ("open", "sqlite3.connect/handle", "sqlite3.connect"):
        _OPENED.append(str(args[0]))


def test_reader_mode_never_opens_the_truth_key(blind_study, tmp_path):
    study, built, giveaways = blind_study
    if _audit not in getattr(sys, "_medsynth_reading_hooks", []):
        sys.addaudithook(_audit)
        sys._medsynth_reading_hooks = [_audit]
    hidden = tmp_path / "elsewhere.json"
    built.key_path.rename(hidden)  # not even present: reader mode must not need it
    _OPENED.clear()
    _RECORDING[0] = True
    try:
        views = _all_views(built.session_dir, "r2")
        for view in views[:3]:
            view.load_image()
    finally:
        _RECORDING[0] = False
    assert len(views) == 2 * len(study.cases)
    assert str(built.database) in _OPENED, _OPENED
    sources = {str(c.image) for c in study.cases}
    for path in _OPENED:
        assert "truth-key" not in path and path != str(hidden) and path not in sources, path
        if path.startswith("/") and Path(path).is_relative_to(built.session_dir.parent):
            assert Path(path).is_relative_to(built.session_dir), path


def test_dicom_folder_case_loses_every_dicom_tag(test_data, tmp_path):
    """A case given as a DICOM series folder is blinded too: pixels and geometry stay, tags go."""
    import shutil

    import numpy as np

    from medsynth.io.images import read_image
    from medsynth.reading import load_study
    from reading_helpers import tiny_study_dict, write_study

    series = tmp_path / "real" / "dicom_series"
    series.mkdir(parents=True)
    for source in sorted((test_data / "dicom_mr_series_small").glob("*.dcm"))[:4]:
        shutil.copy(source, series)
    original = read_image(series)
    data = tiny_study_dict(tmp_path)
    data["cases"].append({"id": "dicom-real", "image": "real/dicom_series", "truth": "real"})
    built = build_session(load_study(write_study(tmp_path, data)), tmp_path / "session")
    key = read_key(built.key_path)
    opaque = next(c for c, e in key.entries.items() if e.source_case_id == "dicom-real")
    blinded = sitk.ReadImage(str(built.session_dir / "images" / f"{opaque}.nii"))
    assert not [k for k in blinded.GetMetaDataKeys() if "|" in k]  # no DICOM group|element tags
    one_slice = sitk.ReadImage(str(next(series.iterdir())))
    assert [k for k in one_slice.GetMetaDataKeys() if "|" in k], "control: the source slices do carry DICOM tags"
    np.testing.assert_allclose(blinded.GetSpacing(), original.GetSpacing())
    np.testing.assert_allclose(blinded.GetOrigin(), original.GetOrigin(), atol=1e-4)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(blinded), sitk.GetArrayFromImage(original).astype(np.int16))

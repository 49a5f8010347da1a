"""MedSynthReader logic on a real MRML scene, with sessions built from real T1 scans.

Real cases are real T1 volumes that travel with the repository (shrunk for speed); the "synthetic" cases
are smoothed copies written with SimpleITK under tell-tale names, so a leak of the truth or the
source path into any node name, attribute or storage file name would be caught.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import SimpleITK as sitk

from real_images import t1_cohort

N_SUBJECTS = 3
GENERATOR = "smoothgan"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(real_dir, synthetic_dir)`` with 3 real T1 volumes and their smoothed copies."""
    root = tmp_path_factory.mktemp("reader-src")
    real_dir, synth_dir = root / "real_scans", root / GENERATOR
    real_dir.mkdir()
    synth_dir.mkdir()
    sources = list(t1_cohort().items())[:N_SUBJECTS]
    assert len(sources) == N_SUBJECTS
    for stem, original in sources:
        image = sitk.Shrink(sitk.Cast(original, sitk.sitkFloat32), [3, 3, 3])
        sitk.WriteImage(image, str(real_dir / f"{stem}.nii.gz"))
        smooth = sitk.SmoothingRecursiveGaussian(image, 2.0)
        smooth.SetMetaData("descrip", "synthetic smoothgan")
        sitk.WriteImage(smooth, str(synth_dir / f"{stem}_synthetic.nii.gz"))
    return real_dir, synth_dir


def make_session(folders, root: Path, **options) -> Path:
    from MedSynthReaderLib.lead import LeadLogic

    options.setdefault("readers", ["r1", "r2"])
    created = LeadLogic().createSession(folders[0], [folders[1]], root / "s1", seed=7, **options)
    assert created.built.n_cases == 2 * N_SUBJECTS
    return created.built.session_dir


@pytest.fixture
def session_dir(folders, tmp_path) -> Path:
    return make_session(folders, tmp_path)


@pytest.fixture
def revisit_dir(folders, tmp_path) -> Path:
    return make_session(folders, tmp_path, allowRevisit=True)


@pytest.fixture
def reader(headless):
    from MedSynthReaderLib.logic import ReaderLogic

    logic = ReaderLogic()
    yield logic
    logic.closeSession()


def full_answer(choice="synthetic", confidence=4, realism=2) -> dict:
    return {"call": {"choice": choice, "confidence": confidence}, "realism": realism}


def scene_text(scene) -> str:
    """Every name, description, attribute and storage file name in the scene, as one text."""
    parts = []
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        parts += [node.GetName() or "", node.GetDescription() or ""]
        for name in node.GetAttributeNames() or ():
            parts += [name, node.GetAttribute(name) or ""]
        if node.IsA("vtkMRMLStorageNode"):
            parts.append(node.GetFileName() or "")
        if node.IsA("vtkMRMLStorableNode"):
            parts += [s.GetFileName() or "" for s in
                      (node.GetNthStorageNode(i) for i in range(node.GetNumberOfStorageNodes())) if s]
    return "\n".join(parts)


def test_case_node_carries_only_the_opaque_id(headless, reader, session_dir, folders):
    headless.slice_logic("Red")
    view = reader.openSession(session_dir, "r1")
    node = reader.loadCurrentCase()
    assert node.GetName() == view.case_id and view.case_id.startswith("case-")
    assert node.GetAttribute("MedSynth.Reading.CaseId") == view.case_id
    assert node.GetStorageNode() is None
    text = scene_text(headless.scene).lower()
    stems = [p.name.split(".")[0].lower() for p in folders[0].iterdir()]
    for leak in [*stems, "ixi", GENERATOR, "synthetic", "real-", str(folders[0]).lower(), str(folders[1]).lower()]:
        assert leak not in text, leak
    composite = headless.scene.GetNodesByClass("vtkMRMLSliceCompositeNode").GetItemAsObject(0)
    assert composite.GetBackgroundVolumeID() == node.GetID()
    assert node.GetDisplayNode().GetAutoWindowLevel() == 1  # no window/level in the study: automatic
    assert node.GetImageData().GetDimensions() == sitk.ReadImage(str(view.image_path)).GetSize()


def test_window_level_of_the_study_is_applied(folders, tmp_path, reader):
    reader.openSession(make_session(folders, tmp_path, windowLevel="CT_BRAIN"), "r1")
    display = reader.loadCurrentCase().GetDisplayNode()
    assert display.GetAutoWindowLevel() == 0
    assert (display.GetWindow(), display.GetLevel()) == (100.0, 50.0)


def test_answer_is_stored_and_next_removes_the_previous_case(headless, reader, session_dir):
    from medsynth.reading import ReadingSession

    view = reader.openSession(session_dir, "r1")
    first = reader.loadCurrentCase()
    first_id, marks_id = first.GetID(), reader.marksNodes["artefacts"].GetID()
    panel = reader.questionPanel()
    for key in ("S", "4", "Alt+2"):
        panel.apply_shortcut(key)
    panel.set("comments", "text", "blurry cortex")
    assert reader.progressText() == "1 / 6"
    reader.answerFromPanel(panel)
    second = reader.next()
    assert headless.scene.GetNodeByID(first_id) is None and headless.scene.GetNodeByID(marks_id) is None
    assert headless.scene.GetFirstNodeByName(view.case_id) is None
    assert headless.scene.GetNodesByClass("vtkMRMLScalarVolumeNode").GetNumberOfItems() == 1
    assert headless.scene.GetNodesByClass("vtkMRMLScalarVolumeDisplayNode").GetNumberOfItems() == 1
    assert second.GetName() == reader.view.case_id != view.case_id and reader.progressText() == "2 / 6"
    assert reader.progressPercent() == 16
    with ReadingSession.open(session_dir, "r1") as check:
        assert check.answer_of(view.case_id) == {**full_answer("synthetic", 4, 2), "comments": "blurry cortex",
                                                 "artefacts": []}


def test_resume_continues_at_the_first_unanswered_case(headless, reader, session_dir):
    from MedSynthReaderLib.logic import ReaderLogic

    reader.openSession(session_dir, "r2")
    for _ in range(2):
        reader.loadCurrentCase()
        reader.answer(full_answer())
        reader.next()
    order = reader.session.order
    reader.closeSession()
    assert headless.scene.GetNodesByClass("vtkMRMLScalarVolumeNode").GetNumberOfItems() == 0
    again = ReaderLogic()
    view = again.openSession(session_dir, "r2")
    assert (view.position, view.case_id) == (2, order[2])
    assert again.loadCurrentCase().GetName() == order[2] and again.progressText() == "3 / 6"
    again.closeSession()


def test_point_marks_are_converted_from_ras_to_lps(headless, reader, revisit_dir):
    from MedSynthReaderLib.marks import pointMarksFromNode

    loose = headless.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "loose")
    loose.AddControlPoint([10.0, -20.5, 30.0])
    loose.SetNthControlPointDescription(0, "ringing")
    assert pointMarksFromNode(loose) == [{"lps_mm": [-10.0, 20.5, 30.0], "note": "ringing"}]

    view = reader.openSession(revisit_dir, "r1")
    reader.loadCurrentCase()
    reader.startPlacingMarks()
    interaction = headless.scene.GetNodeByID("vtkMRMLInteractionNodeSingleton")
    assert interaction.GetCurrentInteractionMode() == interaction.Place
    reader.marksNodes["artefacts"].AddControlPoint([1.0, 2.0, 3.0])
    assert reader.pointCounts() == {"artefacts": 1}
    reader.answer({**full_answer(), "artefacts": reader.pointMarks()["artefacts"]})
    assert reader.session.answer_of(view.case_id)["artefacts"] == [{"lps_mm": [-1.0, -2.0, 3.0], "note": ""}]
    reader.next()
    reader.previous()  # revisiting: the stored mark is back, in RAS, on a fresh node
    assert reader.view.case_id == view.case_id
    restored = [0.0, 0.0, 0.0]
    reader.marksNodes["artefacts"].GetNthControlPointPositionWorld(0, restored)
    assert restored == [1.0, 2.0, 3.0]
    panel = reader.questionPanel()
    assert panel.value("call", "choice") == "synthetic" and panel.point_counts == {"artefacts": 1}
    assert reader.answerFromPanel(panel) is None  # unchanged: no new revision


def test_shortcut_table_maps_keys_to_actions():
    from MedSynthReaderLib.presenter import QuestionPanel
    from MedSynthReaderLib.shortcuts import help_text, shortcut_table
    from medsynth.reading import default_questions

    table = shortcut_table(default_questions(), allow_revisit=True)
    by_key = {s.key: s for s in table}
    assert len(by_key) == len(table)
    assert (by_key["R"].field, by_key["R"].value) == ("choice", "real")
    assert (by_key["S"].field, by_key["S"].value) == ("choice", "synthetic")
    assert [(by_key[str(d)].field, by_key[str(d)].value) for d in range(1, 6)] == [("confidence", d) for d in range(1, 6)]
    assert [(by_key[f"Alt+{d}"].question_id, by_key[f"Alt+{d}"].value) for d in range(1, 6)] == \
        [("realism", d) for d in range(1, 6)]
    assert {by_key[k].action for k in ("Return", "Enter", "N")} == {"next"}
    assert by_key["P"].action == "previous" and by_key["M"].action == "mark"
    assert "P" not in {s.key for s in shortcut_table(default_questions(), allow_revisit=False)}
    assert "R / S: real / synthetic" in help_text(table) and "1 … 5: confidence" in help_text(table)
    panel = QuestionPanel(default_questions())
    assert panel.apply_shortcut("R") is None and panel.value("call", "choice") == "real"
    assert panel.apply_shortcut("Return") == "next" and panel.apply_shortcut("F12") is None


def test_presenter_blocks_an_incomplete_answer():
    from MedSynthReaderLib.presenter import QuestionPanel, given_path, reader_ids
    from medsynth.reading import AnswerError, default_questions

    panel = QuestionPanel(default_questions())
    assert [c.kind for c in panel.controls] == ["real_or_synthetic", "likert", "free_text", "point_marks"]
    assert [row.field for row in panel.controls[0].rows] == ["choice", "confidence"]
    assert panel.controls[1].rows[0].options[0] == (1, "1 clearly artificial")
    assert not panel.complete
    assert panel.status_text == ("Still to answer: real or synthetic (R / S), confidence (1 … 5), "
                                 "realism (Alt+1 … Alt+5).")
    with pytest.raises(AnswerError, match="Still to answer"):
        panel.answers()
    panel.set("call", "choice", "real")
    panel.set("realism", "rating", 5)
    assert panel.missing() == ["confidence (1 … 5)"]
    panel.set("call", "confidence", 3)
    assert panel.complete and panel.status_text.startswith("Answer complete")
    assert panel.answers({"artefacts": []}) == {"call": {"choice": "real", "confidence": 3}, "realism": 5,
                                                "artefacts": []}
    with pytest.raises(ValueError):
        panel.set("realism", "choice", "real")
    assert given_path(".") is None and given_path(" /x ") == "/x" and reader_ids("r1, r2 r3") == ["r1", "r2", "r3"]


def test_whole_session_to_the_end(reader, session_dir):
    reader.openSession(session_dir, "r1")
    node = reader.loadCurrentCase()
    answered = 0
    while node is not None:
        reader.answer(full_answer("real" if answered % 2 else "synthetic"))
        answered += 1
        node = reader.next()
    assert answered == 6 and reader.isComplete and reader.view is None
    assert reader.progressText() == "All 6 cases answered (6 / 6). Thank you!"
    assert reader.loadCurrentCase() is None


def test_lead_adds_readers_exports_and_analyses(reader, session_dir):
    from MedSynthReaderLib.lead import LeadLogic

    lead = LeadLogic()
    assert lead.addReader(session_dir, "r3") == 6
    reader.openSession(session_dir, "r3")
    for _ in range(6):
        reader.loadCurrentCase()
        reader.answer(full_answer())
        reader.next()
    blinded = lead.exportAnswers(session_dir, session_dir.parent / "answers.csv")
    rows = list(csv.DictReader(blinded.open()))
    assert len(rows) == 6 and "truth" not in rows[0] and all(r["case_id"].startswith("case-") for r in rows)
    joined = json.loads(lead.exportAnswers(session_dir, session_dir.parent / "answers.json", withTruth=True).read_text())
    assert {row["truth"] for row in joined["answers"]} == {"real", "synthetic"}
    outcome = lead.analyzeSession(session_dir)
    assert outcome.reportFiles[0] == session_dir.parent / "s1.report.html" and outcome.reportFiles[0].is_file()
    assert "<html" in outcome.reportFiles[0].read_text().lower()
    assert outcome.verdict in ("PASS", "FAIL", "NOT EVALUABLE") and "r3: 6/6 answered" in outcome.summary


def test_revisiting_and_layouts(reader, revisit_dir):
    import slicer

    assert reader.layoutId == slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpView
    reader.setLayout("single")
    assert reader.layoutId == slicer.vtkMRMLLayoutNode.SlicerLayoutOneUpRedSliceView
    with pytest.raises(ValueError, match="four-up"):
        reader.setLayout("nine-up")
    reader.openSession(revisit_dir, "r1")
    reader.loadCurrentCase()
    assert reader.previous().GetName() == reader.session.order[0]  # at the first case: stays
    reader.answer(full_answer())
    reader.next()
    reader.answer(full_answer("real", 1, 5))
    reader.previous()
    reader.answer(full_answer("real", 2, 3))  # revised
    assert reader.next().GetName() == reader.session.order[1]  # forward again through the answered case
    assert reader.questionPanel().value("call", "confidence") == 1


def test_bad_input_gives_clear_errors(folders, tmp_path, reader, session_dir):
    from MedSynthReaderLib.lead import LeadLogic
    from medsynth.reading import SessionError, StudyError
    from medsynth.reading.key import default_key_path

    with pytest.raises(SessionError, match=r"Reader 'nobody' is not part of this study \(readers: r1, r2\)"):
        reader.openSession(session_dir, "nobody")
    with pytest.raises(SessionError, match="Session folder not found"):
        reader.openSession(tmp_path / "missing", "r1")
    with pytest.raises(SessionError, match="Enter your reader id"):
        reader.openSession(session_dir, " ")
    with pytest.raises(SessionError, match="No reading session is open"):
        reader.loadCurrentCase()
    reader.openSession(session_dir, "r1")
    reader.loadCurrentCase()
    with pytest.raises(SessionError, match="Answer this case before moving on"):
        reader.next()
    with pytest.raises(SessionError, match="does not allow going back"):
        reader.previous()
    with pytest.raises(SessionError, match="does not ask for point marks"):
        type(reader)().startPlacingMarks()
    lead = LeadLogic()
    with pytest.raises(StudyError, match="at least one folder of synthetic"):
        lead.createSession(folders[0], [], tmp_path / "s2")
    with pytest.raises(StudyError, match="both named"):
        lead.createSession(folders[0], [folders[1], folders[1]], tmp_path / "s2")
    with pytest.raises(SessionError, match="No reading session"):
        lead.analyzeSession(tmp_path / "missing")
    shutil.move(default_key_path(session_dir), tmp_path / "hidden-key.json")
    with pytest.raises(SessionError, match="Exporting with the truth needs the truth key"):
        lead.exportAnswers(session_dir, tmp_path / "a.csv", withTruth=True)
    assert lead.exportAnswers(session_dir, tmp_path / "a.csv").is_file()  # blinded export needs no key
    assert lead.analyzeSession(session_dir, keyPath=tmp_path / "hidden-key.json").verdict == "NOT EVALUABLE"


def test_session_creation_can_be_cancelled(folders, tmp_path):
    from MedSynthReaderLib.lead import LeadLogic
    from medsynth.errors import Cancelled

    job = LeadLogic().startCreateSession(folders[0], {GENERATOR: folders[1]}, tmp_path / "s3")
    job.cancel()
    with pytest.raises(Cancelled):
        job.start().wait_for_completion()
    assert not (tmp_path / "s3").exists() and list(tmp_path.iterdir()) == []


def test_the_slicer_self_test_flow_runs_headless(headless, folders, tmp_path):
    """What ``MedSynthReaderTest`` runs inside Slicer (there on MRHead), here on a real T1 scan."""
    from MedSynthReaderLib.lead import LeadLogic
    from MedSynthReaderLib.logic import ReaderLogic
    from MedSynthReaderLib.sample_study import SAMPLE_READER, read_sample_study

    class ModuleLogic(ReaderLogic, LeadLogic):  # as MedSynthReaderLogic, without ScriptedLoadableModuleLogic
        pass

    image = sitk.ReadImage(str(sorted(folders[0].iterdir())[0]))
    outcome = read_sample_study(ModuleLogic(), image, tmp_path / "sample")
    assert outcome.reportFiles[0].is_file() and f"{SAMPLE_READER}: 2/2 answered" in outcome.summary
    assert headless.scene.GetNodesByClass("vtkMRMLScalarVolumeNode").GetNumberOfItems() == 0

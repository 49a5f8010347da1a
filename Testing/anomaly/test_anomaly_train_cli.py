"""``medsynth train anomaly``: a folder of healthy scans → a model card and ONNX file the run time uses (torch)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

pytest.importorskip("torch")

import medsynth.cli as cli  # noqa: E402

SUBJECTS = ("IXI012", "IXI014", "IXI051")
MODEL_ID = "anomaly-cli-test"
#: A tiny network and 4 iterations: this checks the plumbing, not the quality.
TINY = ["--iterations", "4", "--stop-after", "4", "--channels", "4,8", "--patch", "32,32,32", "--threads", "1"]


@pytest.fixture(scope="module")
def healthy_folder(shared_data: Path, tmp_path_factory) -> tuple[Path, Path]:
    """A flat folder of 3 real IXI T1 scans and a folder of their DLMUSE label maps."""
    root = tmp_path_factory.mktemp("healthy")
    scans, labels = root / "scans", root / "labels"
    scans.mkdir()
    labels.mkdir()
    source = shared_data / "subjects_t1"
    for subject in SUBJECTS:
        shutil.copy(next(source.glob(f"{subject}-*-T1_ds.nii.gz")), scans)
        shutil.copy(next((source / "dlmuse").glob(f"{subject}-*_DLMUSE.nii.gz")), labels)
    return scans, labels


@pytest.fixture()
def one_itk_thread():
    """ITK's registration is bit-reproducible only on one thread: the threshold measured in the command and the
    analysis below then see exactly the same scores."""
    before = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    yield
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(before)


def _same_grid(a: sitk.Image, b: sitk.Image) -> bool:
    return (a.GetSize() == b.GetSize() and np.allclose(a.GetOrigin(), b.GetOrigin(), atol=1e-4)
            and np.allclose(a.GetSpacing(), b.GetSpacing(), atol=1e-6)
            and np.allclose(a.GetDirection(), b.GetDirection(), atol=1e-6))


def test_train_anomaly_from_a_flat_folder_gives_a_model_the_runtime_uses(healthy_folder, one_itk_thread, tmp_path,
                                                                         monkeypatch, capsys):
    from medsynth.models import ModelRegistry
    from medsynth.models.card import load_card
    from medsynth.models.integrity import sha256_of
    from medsynth.runtime import OnnxGenerator
    from medsynth.tasks.anomaly.task import anomaly_map
    from medsynth.tasks.anomaly.settings import AnomalySettings
    from medsynth.training.anomaly.pipeline import THRESHOLD_RULE

    scans, labels = healthy_folder
    out = tmp_path / "models" / MODEL_ID
    assert cli.main(["train", "anomaly", "--data", str(scans), "--labels", str(labels), "--out", str(out),
                     "--model-id", MODEL_ID, "--work", str(tmp_path / "work"), *TINY]) == 0
    assert f"model {MODEL_ID} 1.0.0" in capsys.readouterr().out
    assert len(list((tmp_path / "work").glob("prepared-*.npz"))) == 1  # aligned scans kept for a re-run

    card = load_card(out / "card.json")  # validated by the runtime's own parser
    assert card.task == "anomaly" and card.id == MODEL_ID
    assert sha256_of(out / card.weights_file) == card.weights_sha256
    raw = json.loads((out / "card.json").read_text())
    held_out = raw["validation"]["metrics"]["validation_scans"]
    assert len(held_out) == 1 and held_out[0].split("-")[0] in SUBJECTS  # 0.2 of 3 scans, at least 1
    assert held_out[0] in raw["validation"]["data"] and held_out[0] not in raw["training"]["data"]
    assert THRESHOLD_RULE in raw["validation"]["data"]
    assert "medsynth train anomaly" in raw["training"]["command"]
    settings, defaults = AnomalySettings.from_card(card), AnomalySettings()
    assert settings.threshold >= defaults.threshold and settings.baseline_threshold >= defaults.baseline_threshold
    assert settings.artefact_threshold >= defaults.artefact_threshold and settings.artefact_reference

    # The run time finds it in a models path holding the out folder's parent.
    monkeypatch.setenv("MEDSYNTH_MODELS_PATH", str(out.parent))
    model = OnnxGenerator(ModelRegistry.default().find(MODEL_ID, task="anomaly"), threads=1)
    image = sitk.ReadImage(str(next(scans.glob(f"{held_out[0]}*"))))
    result = anomaly_map(image, model)
    assert _same_grid(result.score, image) and sitk.GetArrayViewFromImage(result.score).any()
    # The rule: the held-out healthy scan has no finding at the card's threshold, but has one just below it
    # (unless the threshold is the default floor).
    assert result.threshold == settings.threshold and result.findings == []
    if settings.threshold > defaults.threshold:
        assert anomaly_map(image, model, threshold=settings.threshold - 0.01).findings


def _fake_scans(folder: Path, names) -> Path:
    """Image-named files: the errors below come before any image is read."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")
    return folder


@pytest.mark.parametrize("case, message", [
    ("empty folder", "No T1 images found in"),
    ("no label maps", "No brain label map was found for any scan"),
    ("one scan", "needs at least 2 healthy scans (at least 1 for training and 1 for validation)"),
    ("out is the data folder", "is the input folder given as --data"),
    ("out is the labels folder", "is the input folder given as --labels"),
    ("no template", "pass --template MNI_T1"),
    ("unknown validation scan", "--validation sub-09: no scan of that name"),
    ("every scan held out", "leave at least one scan for training"),
])
def test_train_anomaly_refuses_unusable_inputs_with_what_to_do(case, message, tmp_path, monkeypatch, capsys):
    import medsynth.training.anomaly.pipeline as pipeline

    template = _fake_scans(tmp_path, ["avg152T1.nii.gz"]) / "avg152T1.nii.gz"
    data, labels, out = tmp_path / "scans", tmp_path / "labels", tmp_path / "models" / "m"
    _fake_scans(data, [] if case == "empty folder" else ["sub-01.nii.gz"] if case == "one scan"
                else ["sub-01.nii.gz", "sub-02.nii.gz"])
    _fake_scans(labels, [] if case == "no label maps" else ["sub-01_labels.nii.gz", "sub-02_labels.nii.gz"])
    args = ["train", "anomaly", "--data", str(data), "--labels", str(labels), "--out", str(out),
            "--template", str(template), *TINY]
    if case == "out is the data folder":
        args[args.index("--out") + 1] = str(data)
    elif case == "out is the labels folder":
        args[args.index("--out") + 1] = str(labels) + "/"
    elif case == "no template":
        monkeypatch.setattr(pipeline, "shared_data_dir", lambda: None)
        del args[args.index("--template"):args.index("--template") + 2]
    elif case == "unknown validation scan":
        args += ["--validation", "sub-09"]
    elif case == "every scan held out":
        args += ["--validation", "sub-01", "sub-02.nii.gz"]
    assert cli.main(args) == 2
    error = capsys.readouterr().err
    assert error.startswith("medsynth: error: ") and message in error
    assert not out.exists()


def test_train_anomaly_help_states_the_threshold_rule(capsys):
    from medsynth.training.anomaly.pipeline import THRESHOLD_RULE

    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "anomaly", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "usage: medsynth train anomaly" in text
    for option in ("--data", "--out", "--labels", "--template", "--validation-fraction", "--validation", "--work"):
        assert option in text
    assert " ".join(THRESHOLD_RULE.split()) in " ".join(text.split())


def test_validation_split_is_seeded_and_keeps_bids_subjects_whole(tmp_path):
    from medsynth.training.anomaly.data import find_healthy_scans
    from medsynth.training.anomaly.pipeline import split_scans

    for subject, sessions in (("sub-01", ("ses-1", "ses-2")), ("sub-02", ("",)), ("sub-03", ("",)), ("sub-10", ("",))):
        for session in sessions:
            name = "_".join(part for part in (subject, session, "T1w") if part)
            _fake_scans(tmp_path / subject / session / "anat", [f"{name}.nii.gz"])
            _fake_scans(tmp_path / "labels", [f"{name}_brain.nii.gz"])
    scans = find_healthy_scans(tmp_path, tmp_path / "labels")
    assert len(scans) == 5 and all(s.labels is not None for s in scans)
    splits = [split_scans(scans, 0.5, seed=seed) for seed in range(6)]
    assert splits[0] == split_scans(scans, 0.5, seed=0)
    for training, validation in splits:
        held_out = {s.name.split("_")[0] for s in validation}
        assert len(held_out) == 2 and not held_out & {s.name.split("_")[0] for s in training}
    assert len({tuple(s.name for s in v) for _, v in splits}) > 1  # the seed matters
    training, validation = split_scans(scans, 0.5, names=["sub-01", "sub-03_T1w.nii.gz"])
    assert [s.name for s in validation] == ["sub-01_ses-1_T1w", "sub-01_ses-2_T1w", "sub-03_T1w"]
    assert [s.name for s in split_scans(scans, 0.5, names=["sub-10_T1w"])[1]] == ["sub-10_T1w"]

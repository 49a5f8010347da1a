"""Training smoke tests on a tiny synthetic SynthRAD-layout folder: train, resume, export, parity, card."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

pytest.importorskip("torch")
pytest.importorskip("monai")

import medsynth.cli as cli  # noqa: E402
from medsynth.errors import InputError  # noqa: E402
from medsynth.models.card import load_card  # noqa: E402
from medsynth.training.synthct.data import find_cases, prepare_case, split_cases  # noqa: E402
from medsynth.training.synthct.model import ModelConfig  # noqa: E402
from medsynth.training.synthct.spec import SynthCTSpec  # noqa: E402
from medsynth.training.synthct.synthrad import FolderTrainingOptions, train_from_folder  # noqa: E402
from medsynth.training.synthct.train import TrainConfig, blend_weights, train  # noqa: E402

SIZE = 40  # voxels per axis at 2 mm: an 80 mm "head"
SPEC = SynthCTSpec(patch_size=(3, 32, 32), overlap=0.67)
MODEL = ModelConfig(patch_size=(3, 32, 32), channels=(4, 8), residual_units=0)


def _sphere_case(folder: Path, seed: int, suffix: str) -> None:
    """A ball phantom: brain, a dark skull shell (bone in CT), bright scalp, air outside."""
    rng = np.random.default_rng(seed)
    grid = np.indices((SIZE,) * 3) - (SIZE - 1) / 2
    radius = np.sqrt((grid ** 2).sum(0)) * rng.uniform(0.9, 1.1)
    mr = np.select([radius < 12, radius < 14, radius < 16], [0.6, 0.08, 0.9], 0.01)
    ct = np.select([radius < 12, radius < 14, radius < 16], [35.0, 1100.0, 10.0], -1000.0)
    mr = np.abs(mr + rng.normal(0, 0.02, mr.shape)) * 300
    ct = ct + rng.normal(0, 10, ct.shape)
    folder.mkdir(parents=True)
    for name, voxels in (("mr", mr.astype(np.float32)), ("ct", ct.astype(np.int16)),
                         ("mask", (radius < 18).astype(np.uint8))):
        image = sitk.GetImageFromArray(voxels)
        image.SetSpacing((2.0, 2.0, 2.0))
        image.SetOrigin((-40.0, -40.0, -40.0))
        sitk.WriteImage(image, str(folder / f"{name}{suffix}"))


@pytest.fixture(scope="module")
def synthrad_2023(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthrad2023")
    for index in range(3):
        _sphere_case(root / f"1BA{index:03d}", index, ".nii.gz")
    return root


@pytest.fixture(scope="module")
def synthrad_2025(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthrad2025")
    for index in range(2):
        _sphere_case(root / "Task1" / "HN" / f"1HNA{index:03d}", 10 + index, ".mha")
    return root


def test_readers_find_both_layouts_and_split_by_case(synthrad_2023, synthrad_2025, tmp_path):
    cases23, cases25 = find_cases(synthrad_2023), find_cases(synthrad_2025)
    assert [c.name for c in cases23] == ["1BA000", "1BA001", "1BA002"]
    assert [c.name for c in cases25] == ["Task1/HN/1HNA000", "Task1/HN/1HNA001"]
    assert all(c.mask is not None and c.mr.suffix == ".mha" for c in cases25)
    training, validation = split_cases(cases23, 0.34, seed=0)
    assert len(training) == 2 and len(validation) == 1 and not {c.name for c in training} & {c.name for c in validation}
    volume = prepare_case(cases23[0], SPEC)
    assert volume.mr.shape == (SIZE,) * 3 and 0 <= float(volume.mr.min()) and float(volume.mr.max()) <= 1
    assert volume.mask.any() and float(volume.ct.max()) > 900
    with pytest.raises(InputError, match="No paired cases"):
        find_cases(tmp_path)


def test_train_resume_export_parity_and_card(synthrad_2023, tmp_path):
    messages: list[str] = []
    options = FolderTrainingOptions(
        data=synthrad_2023, out=tmp_path / "model", model_id="tiny-sct", validation_fraction=0.34, spec=SPEC,
        model=MODEL, train=TrainConfig(iterations=2, batch_size=2, validate_every=2, checkpoint_every=2, log_every=1,
                                       warmup_iterations=1))
    first = train_from_folder(options, log=messages.append)
    assert (tmp_path / "model" / "checkpoints" / "last.pt").is_file()
    assert first.raw["validation"]["metrics"]["validation_cases"] == 1
    resumed = replace(options, train=replace(options.train, iterations=4))
    card = train_from_folder(resumed, log=messages.append)
    assert any("resumed from" in m and "iteration 2" in m for m in messages)
    assert any("iteration 4/4" in m for m in messages) and not any("iteration 1/4" in m for m in messages)
    written = load_card(tmp_path / "model" / "card.json")
    assert written == card and card.id == "tiny-sct" and card.task == "synth-ct"
    assert card.inference.patch_size == (3, 32, 32) and card.outputs[0].units == "HU"
    metrics = card.raw["validation"]["metrics"]
    assert metrics["mae_hu_mean"] > 0 and list(metrics["mae_hu_per_case"]) != []
    assert card.raw["validation"]["parity_max_abs_diff"] <= 1.0
    assert (tmp_path / "model" / "tiny-sct.onnx").stat().st_size < 1_000_000


def test_training_can_start_from_a_previous_stage(synthrad_2023, tmp_path):
    """Fine-tuning (the built-in model's second stage) starts from the given weights, not a fresh network."""
    import torch

    volumes = [prepare_case(case, SPEC) for case in find_cases(synthrad_2023)]
    frozen = TrainConfig(iterations=1, batch_size=2, learning_rate=0.0, warmup_iterations=0, final_lr_fraction=1.0,
                         weight_decay=0.0, seed=3)
    first = train(volumes, [], SPEC, MODEL, replace(frozen, learning_rate=1e-2), tmp_path / "stage1", log=lambda _: None)
    weights = {name: value.clone() for name, value in first.model.state_dict().items()}
    tuned = train(volumes, [], SPEC, MODEL, frozen, tmp_path / "stage2", log=lambda _: None, initial_weights=weights)
    fresh = train(volumes, [], SPEC, MODEL, frozen, tmp_path / "fresh", log=lambda _: None)
    # Learning rate 0: the parameters (not the normalisation statistics) stay where they started.
    assert all(torch.equal(value, weights[name]) for name, value in tuned.model.named_parameters())
    assert not all(torch.equal(value, weights[name]) for name, value in fresh.model.named_parameters())


def test_blend_weights_mixes_floats_and_keeps_counters():
    import torch

    start = {"w": torch.tensor([0.0, 10.0]), "n": torch.tensor(3)}
    tuned = {"w": torch.tensor([1.0, 20.0]), "n": torch.tensor(7)}
    blended = blend_weights(start, tuned, 0.25)
    assert torch.allclose(blended["w"], torch.tensor([0.25, 12.5])) and int(blended["n"]) == 7
    assert torch.equal(blend_weights(start, tuned, 1.0)["w"], tuned["w"])
    with pytest.raises(ValueError, match="different networks"):
        blend_weights(start, {"w": tuned["w"]}, 0.5)
    with pytest.raises(ValueError, match="0…1"):
        blend_weights(start, tuned, 1.5)


def test_train_command_on_the_2025_layout(synthrad_2025, tmp_path, capsys):
    out = tmp_path / "model"
    code = cli.main(["train", "synth-ct", "--data", str(synthrad_2025), "--out", str(out), "--patch", "3,32,32",
                     "--channels", "4,8", "--iterations", "2", "--batch-size", "2", "--validation-fraction", "0.5",
                     "--validate-every", "2", "--model-id", "tiny-2025"])
    assert code == 0, capsys.readouterr().err
    card = json.loads((out / "card.json").read_text())
    assert card["id"] == "tiny-2025" and "--patch 3,32,32" in card["training"]["command"]
    assert card["validation"]["metrics"]["validation_cases"] == 1


def test_train_command_rejects_impossible_networks(tmp_path, capsys):
    code = cli.main(["train", "synth-ct", "--data", str(tmp_path), "--out", str(tmp_path / "m"), "--patch", "3,30,30"])
    assert code == 2
    assert "multiples of 8" in capsys.readouterr().err


@pytest.mark.slow
def test_builtin_command_trains_in_stages_blends_and_writes_its_card(shared_data, tmp_path):
    """The built-in recipe end to end at toy size: two stages on real-material phantoms, the blend,
    export, parity, validation on the real held-out data and the card."""
    from medsynth.training.synthct import builtin

    toy = tuple(replace(stage, training_volumes=2, validation_volumes=1,
                        train=replace(stage.train, iterations=2, validate_every=2, batch_size=2))
                for stage in builtin.Recipe().stages)
    recipe = replace(builtin.Recipe(), stages=toy, spec=SPEC, model=MODEL, volume_shape=(16, 48, 48),
                     tpm_realisations=1)
    messages: list[str] = []
    card, report = builtin.build(shared_data, tmp_path / "out", tmp_path / "work", recipe, workers=1,
                                 log=messages.append)
    assert (tmp_path / "work" / "stage1" / "last.pt").is_file() and (tmp_path / "work" / "stage2" / "last.pt").is_file()
    assert any("weights blended 0.88 × stage 1 + 0.12 × fine-tuned" in m for m in messages)
    training = card.raw["training"]
    assert "2 + 2 iterations" in training["notes"] and "Stage 2 (template pairs)" in training["data"]
    assert "weight-space blend 0.88 × stage 1" in training["data"]
    metrics = card.raw["validation"]["metrics"]
    assert metrics["template_pair_mae_hu"]["model"] == pytest.approx(report.template.mae_model, abs=0.05)
    assert card.raw["validation"]["parity_max_abs_diff"] <= metrics["parity_tolerance_hu"]
    assert load_card(tmp_path / "out" / "card.json") == card

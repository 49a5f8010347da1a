"""The anomaly training package: seeded batches, and an exported model that carries its maps (torch)."""

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("torch")

from medsynth.tasks.anomaly.space import MNI_SIZE_XYZ, OUTPUT_NAMES  # noqa: E402

SHAPE = MNI_SIZE_XYZ[::-1]


def _volumes(seed=0):
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    prior = (((z - 45) / 35.0) ** 2 + ((y - 54) / 42.0) ** 2 + ((x - 45) / 35.0) ** 2 < 1).astype(np.float32)
    inputs = [np.where(prior > 0, rng.uniform(0.3, 0.9, SHAPE), 0).astype(np.float32) for _ in range(2)]
    return inputs, [prior > 0] * 2, prior, np.where(prior > 0, 0.6, 0.1).astype(np.float32)


def test_batches_are_seeded_and_corruption_stays_in_the_brain():
    from medsynth.training.anomaly.augment import BatchMaker
    from medsynth.training.anomaly.spec import TrainingConfig

    inputs, masks, prior, atlas = _volumes()
    config = TrainingConfig(patch_size=(24, 24, 24), batch_size=3, blob_probability=1.0)
    first, second = (BatchMaker(inputs, masks, prior, atlas, config).batch() for _ in range(2))
    assert np.array_equal(first.corrupted.numpy(), second.corrupted.numpy())
    changed = np.abs(first.corrupted.numpy() - first.clean.numpy()) > 1e-6
    assert changed.any() and not (changed & (first.mask.numpy() == 0)).any()
    assert first.clean.min() >= 0 and first.clean.max() <= 1
    # The atlas stays in MNI space: the same patches without spatial augmentation have the same atlas.
    still = BatchMaker(inputs, masks, prior, atlas, replace(config, rotate_deg=0.0, scale=0.0, translate_mm=0.0)).batch()
    assert np.array_equal(still.atlas.numpy(), first.atlas.numpy())
    assert not np.array_equal(still.clean.numpy(), first.clean.numpy())


def test_exported_model_carries_its_population_maps(tmp_path):
    from medsynth.models import ModelRegistry
    from medsynth.runtime import OnnxGenerator
    from medsynth.tasks.anomaly.space import population_maps
    from medsynth.tasks.anomaly.settings import AnomalySettings
    from medsynth.training.anomaly.builtin import card
    from medsynth.training.anomaly.export import export_anomaly_model
    from medsynth.training.anomaly.model import build_network
    from medsynth.training.anomaly.spec import TrainingConfig
    from medsynth.training.cards import write_card

    inputs, masks, prior, atlas = _volumes()
    rng = np.random.default_rng(3)
    smooth = lambda low, high: np.clip(np.kron(rng.uniform(low, high, (46, 55, 46)), np.ones((2, 2, 2)))[:91, :109, :91], low, high).astype(np.float32)  # noqa: E731
    maps = {"template": atlas, "intensity_mean": atlas, "brain_prior": prior, "residual_mean": smooth(0.0, 0.2),
            "residual_sd": smooth(0.05, 0.3), "intensity_sd": smooth(0.05, 0.2)}
    folder = tmp_path / "anomaly-brain-t1"
    folder.mkdir()
    import torch

    torch.manual_seed(0)
    parity = export_anomaly_model(build_network((4, 8)).eval(), maps, folder, inputs[0])
    # An untrained network amplifies float round-off through instance norm: bound the worst voxel
    # loosely and the average tightly (the trained built-in model's parity is in its card).
    assert parity.max_abs_diff < 1e-2 and parity.mean_abs_diff < 1e-4
    assert (folder / "model.onnx").stat().st_size < 3e6, "the maps were expanded to float32 in the file"
    write_card(folder, card(TrainingConfig(), AnomalySettings(), {}, parity.max_abs_diff, {}), folder / "model.onnx")
    model = OnnxGenerator(ModelRegistry([("test", tmp_path)]).find("anomaly-brain-t1"), threads=1)
    assert tuple(o.name for o in model.card.outputs) == OUTPUT_NAMES
    read = population_maps(model.predict, OUTPUT_NAMES)
    assert np.allclose(read.template, atlas, atol=1e-3)
    assert np.allclose(read.brain_prior[::2, ::2, ::2], prior[::2, ::2, ::2], atol=1e-3)
    assert np.allclose(read.residual_sd[::2, ::2, ::2], maps["residual_sd"][::2, ::2, ::2], atol=1e-3)

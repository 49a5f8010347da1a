"""The task-agnostic export, parity and card helpers, with a tiny network (any task can use them)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from medsynth.errors import ModelError  # noqa: E402
from medsynth.models.registry import ModelEntry  # noqa: E402
from medsynth.runtime import OnnxGenerator  # noqa: E402
from medsynth.training.cards import software_versions, write_card  # noqa: E402
from medsynth.training.export import check_parity, export_onnx  # noqa: E402

PATCH = (8, 16, 16)


def _card() -> dict:
    return {
        "id": "tiny-demo", "version": "0.1.0", "task": "demo", "name": "tiny",
        "input": {"modality": "any", "orientation": "native", "spacing_mm": "native",
                  "normalization": {"scheme": "none"}},
        "inference": {"patch_size": list(PATCH), "overlap": 0.5},
        "outputs": [{"name": "out"}],
        "training": {"data": "none"}, "validation": {"data": "none", "metrics": {}},
        "intended_use": "tests", "limitations": ["none"], "license": "Apache-2.0",
    }


def test_export_parity_and_card_round_trip(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv3d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv3d(4, 1, 1))
    onnx_path = export_onnx(model, PATCH, tmp_path / "tiny.onnx", image_input="image", output_name="out")
    assert not list(tmp_path.glob("*.data")) and not list(tmp_path.glob("*.tmp*"))
    volume = np.random.default_rng(0).random((1, 20, 30, 25), dtype=np.float32)
    report = check_parity(model, onnx_path, volume, PATCH, overlap=0.5, description="random volume")
    assert report.max_abs_diff < 1e-4 and report.within(1e-4) and report.voxels == volume.size
    card = write_card(tmp_path, _card(), onnx_path)
    written = json.loads((tmp_path / "card.json").read_text())
    assert list(written)[:7] == ["schema_version", "id", "version", "task", "name", "weights", "input"]
    generator = OnnxGenerator(ModelEntry(card, tmp_path, "test"))
    out = generator.predict(volume[None, :, :8, :16, :16].copy())
    with torch.no_grad():
        expected = model(torch.from_numpy(volume[None, :, :8, :16, :16].copy())).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)
    onnx_path.write_bytes(onnx_path.read_bytes() + b"tampered")
    with pytest.raises(ModelError, match="does not match its card"):
        OnnxGenerator(ModelEntry(card, tmp_path, "test"))
    assert "torch" in software_versions()


def test_write_card_refuses_an_invalid_card(tmp_path):
    weights = tmp_path / "w.onnx"
    weights.write_bytes(b"x")
    bad = _card()
    bad["task"] = "teleportation"
    with pytest.raises(ModelError, match="task"):
        write_card(tmp_path, bad, weights)
    assert not (tmp_path / "card.json").exists()
    with pytest.raises(ValueError, match="inside the model folder"):
        write_card(tmp_path / "elsewhere", _card(), weights)

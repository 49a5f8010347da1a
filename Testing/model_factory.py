"""Real ONNX models for tests, built with the ``onnx`` package, installed as real model folders.

``pointwise_model`` is ``y = scale·x + offset`` per voxel (a 1×1×1 convolution), so the
correct whole-volume result is known exactly; ``conditioned_model`` adds a conditioning input.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from medsynth.models import sha256_of

BASE_CARD = {
    "schema_version": 1,
    "id": "test-pointwise",
    "version": "1.0.0",
    "task": "demo",
    "name": "Test pointwise model",
    "weights": {"file": "model.onnx", "sha256": "0" * 64},
    "input": {"modality": "any", "orientation": "native", "spacing_mm": "native",
              "normalization": {"scheme": "none"}},
    "inference": {"patch_size": [16, 16, 16], "overlap": 0.25, "batch_size": 1},
    "outputs": [{"name": "out", "units": "a.u."}],
    "training": {"data": "none (fixed weights for tests)"},
    "validation": {"data": "analytic", "metrics": {}},
    "intended_use": "Tests.",
    "limitations": ["Tests only."],
    "license": "Apache-2.0",
}


def pointwise_graph(scale: float = 2.0, offset: float = 1.0, patch=(16, 16, 16), out_channels: int = 1,
                    condition_width: int = 0) -> onnx.ModelProto:
    """image (N,1,*patch) → scale·image + offset (N,out_channels,*patch); with a condition input
    (N, width), its sum is added to every voxel."""
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, *patch])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", out_channels, *patch])
    weights = numpy_helper.from_array(np.full((out_channels, 1, 1, 1, 1), scale, np.float32), "w")
    bias = numpy_helper.from_array(np.full((out_channels,), offset, np.float32), "b")
    inputs, initializers = [image], [weights, bias]
    nodes = [helper.make_node("Conv", ["image", "w", "b"], ["conv" if condition_width else "output"])]
    if condition_width:
        inputs.append(helper.make_tensor_value_info("condition", TensorProto.FLOAT, ["batch", condition_width]))
        initializers.append(numpy_helper.from_array(np.array([1], np.int64), "axis1"))
        initializers.append(numpy_helper.from_array(np.array([-1, 1, 1, 1, 1], np.int64), "shape5"))
        nodes += [helper.make_node("ReduceSum", ["condition", "axis1"], ["csum"], keepdims=1),
                  helper.make_node("Reshape", ["csum", "shape5"], ["c5"]),
                  helper.make_node("Add", ["conv", "c5"], ["output"])]
    graph = helper.make_graph(nodes, "pointwise", inputs, [output], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def install_model(folder: Path, graph: onnx.ModelProto, **card_changes) -> Path:
    """Write ``graph`` and a card (BASE_CARD updated with ``card_changes``, sha256 filled in)."""
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(graph, str(folder / "model.onnx"))
    card = copy.deepcopy(BASE_CARD)
    card.update(copy.deepcopy(card_changes))
    card["weights"]["sha256"] = sha256_of(folder / "model.onnx")
    (folder / "card.json").write_text(json.dumps(card, indent=2))
    return folder

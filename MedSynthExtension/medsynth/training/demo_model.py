"""Build the built-in ``demo-edges`` model: a fixed-weight 3D network, no training needed.

It smooths the normalised image and returns the gradient magnitude (edge strength), i.e. a
real convolutional ONNX graph that exercises every stage of the runtime (model grid,
normalisation, patches, blending, output scaling, provenance) without a trained network.
Reproduce the committed files with::

    python -m medsynth.training.demo_model MedSynthExtension/medsynth/models/builtin/demo-edges
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from medsynth.models.integrity import sha256_of
from medsynth.training.domains import TRAINED_DOMAINS

MODEL_ID = "demo-edges"
PATCH_SIZE = (64, 64, 64)


def gradient_kernels() -> np.ndarray:
    """(3, 1, 3, 3, 3) Sobel-style kernels: a central difference along one axis, [1, 2, 1]/4
    smoothing along the other two (z, y, x order), scaled to units per voxel."""
    smooth = np.array([1.0, 2.0, 1.0]) / 4.0
    derivative = np.array([-1.0, 0.0, 1.0]) / 2.0
    kernels = np.zeros((3, 1, 3, 3, 3), dtype=np.float32)
    for axis in range(3):
        factors = [derivative if a == axis else smooth for a in range(3)]
        kernels[axis, 0] = np.einsum("i,j,k->ijk", *factors)
    return kernels


def build_graph() -> onnx.ModelProto:
    """image (N,1,D,H,W) → sqrt(sum_c (conv_c(image))²) (N,1,D,H,W)."""
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, *PATCH_SIZE])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 1, *PATCH_SIZE])
    weights = numpy_helper.from_array(gradient_kernels(), name="gradient_kernels")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), name="channel_axis")
    nodes = [
        helper.make_node("Conv", ["image", "gradient_kernels"], ["gradients"], pads=[1] * 6),
        helper.make_node("Mul", ["gradients", "gradients"], ["squared"]),
        helper.make_node("ReduceSum", ["squared", "channel_axis"], ["sum_squared"], keepdims=1),
        helper.make_node("Sqrt", ["sum_squared"], ["output"]),
    ]
    graph = helper.make_graph(nodes, "demo_edges", [image], [output], initializer=[weights, axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="medsynth")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def card(sha256: str) -> dict:
    return {
        "schema_version": 1,
        "id": MODEL_ID,
        "version": "1.0.0",
        "task": "demo",
        "name": "Demo: edge-strength map",
        "description": "Fixed-weight 3D convolutional network: gradient magnitude of the smoothed, normalised image.",
        "weights": {"file": "model.onnx", "sha256": sha256},
        "input": {"modality": "MR", "contrast": "any", "orientation": "RAS", "spacing_mm": [1.5, 1.5, 1.5],
                  "normalization": {"scheme": "percentile", "lower_percentile": 1, "upper_percentile": 99,
                                    "target_range": [0, 1], "mask": "nonzero"}},
        "domain": TRAINED_DOMAINS["demo"],
        "inference": {"patch_size": list(PATCH_SIZE), "overlap": 0.25, "blend": "gaussian", "batch_size": 2},
        "outputs": [{"name": "edges", "units": "normalised intensity per voxel", "scale": 1.0, "clip": [0, 1],
                     "background_value": 0, "description": "Edge strength; high on tissue boundaries."}],
        "training": {"data": "None: the weights are fixed Sobel-style kernels, not learned.",
                     "command": "python -m medsynth.training.demo_model MedSynthExtension/medsynth/models/builtin/demo-edges"},
        "validation": {"data": "Analytic: a unit ramp gives edge strength = slope (tested).", "metrics": {}},
        "intended_use": "Demonstrating and testing the MedSynth runtime and Slicer overlays. Not a medical device.",
        "limitations": ["Not a generative model and not for any clinical use."],
        "license": "Apache-2.0",
    }


def write(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / "model.onnx"
    onnx.save(build_graph(), str(weights))
    (out_dir / "card.json").write_text(json.dumps(card(sha256_of(weights)), indent=2) + "\n", encoding="utf-8")
    return out_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    write(parser.parse_args().out_dir)


if __name__ == "__main__":
    main()

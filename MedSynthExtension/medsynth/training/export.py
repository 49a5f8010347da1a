"""Task-agnostic ONNX export and torch-vs-onnxruntime parity, for every MedSynth trainer.

The exported graph follows the runtime's contract (:class:`medsynth.runtime.OnnxGenerator`):
an image input ``(N, 1, *patch)`` named as the card's ``inference.image_input``, optionally a
condition input ``(N, width)``, and one output ``(N, outputs, *patch)``; the batch axis is
dynamic, the patch is fixed. Weights are embedded in the ``.onnx`` file (no side ``.onnx.data``),
so the sha256 in the card covers everything that runs.

Parity is checked the way the model will be used: over a whole real volume with the runtime's
sliding window, once with the torch module and once with onnxruntime, comparing the blended
outputs voxel by voxel.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from medsynth.runtime.sliding_window import sliding_window_predict

DEFAULT_OPSET = 17


def export_onnx(model, patch_size: Sequence[int], path: str | Path, image_input: str = "image",
                output_name: str = "output", condition_width: int = 0, condition_input: str = "condition",
                opset: int = DEFAULT_OPSET) -> Path:
    """Export ``model`` (eval mode, CPU) to ``path`` with the legacy TorchScript exporter.

    The legacy exporter (``dynamo=False``) exports a UNet in about a second and writes a single
    self-contained file; the dynamo exporter takes ~15 s and splits weights out by default.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    image = torch.zeros(1, 1, *[int(p) for p in patch_size])
    args: tuple = (image,)
    names = [image_input]
    dynamic = {image_input: {0: "batch"}, output_name: {0: "batch"}}
    if condition_width:
        args = (image, torch.zeros(1, condition_width))
        names.append(condition_input)
        dynamic[condition_input] = {0: "batch"}
    temporary = path.with_suffix(".tmp.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter is deprecated, and chosen on purpose
        torch.onnx.export(model, args, str(temporary), input_names=names, output_names=[output_name],
                          dynamic_axes=dynamic, opset_version=opset, dynamo=False, do_constant_folding=True)
    import onnx

    onnx.checker.check_model(str(temporary))
    temporary.replace(path)
    return path


@dataclass(frozen=True)
class ParityReport:
    """Torch vs onnxruntime on one volume, in the network's output units times ``scale``."""

    max_abs_diff: float
    mean_abs_diff: float
    voxels: int
    description: str

    def within(self, tolerance: float) -> bool:
        return self.max_abs_diff <= tolerance


def check_parity(model, onnx_path: str | Path, network_input: np.ndarray, patch_size: Sequence[int],
                 overlap: float, scale: float = 1.0, batch_size: int = 2, image_input: str = "image",
                 description: str = "", threads: int = 2) -> ParityReport:
    """Run ``model`` (torch) and ``onnx_path`` (onnxruntime, CPU) over ``network_input``
    (channels, z, y, x: a real, normalised volume on the model grid) with the runtime's sliding
    window; report the largest and mean absolute difference of the outputs times ``scale``
    (e.g. 1000 for a network that predicts HU / 1000)."""
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # polite on shared CPUs
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    model = model.eval()

    def run_torch(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(np.ascontiguousarray(batch))).numpy()

    def run_onnx(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {image_input: np.ascontiguousarray(batch, dtype=np.float32)})[0]

    volume = np.asarray(network_input, dtype=np.float32)
    outputs = [sliding_window_predict(run, volume, patch_size, overlap=overlap, batch_size=batch_size)
               for run in (run_torch, run_onnx)]
    difference = np.abs(outputs[0] - outputs[1]) * scale
    return ParityReport(float(difference.max()), float(difference.mean()), int(difference.size), description)

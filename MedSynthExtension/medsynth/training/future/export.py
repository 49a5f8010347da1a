"""ONNX export of the future-MRI network and its torch-vs-onnxruntime parity, via the shared helpers.

Export is :func:`medsynth.training.export.export_onnx` (condition input included). Parity uses the
same method as :func:`medsynth.training.export.check_parity` — both runtimes over a whole real
volume with the runtime's sliding window — but feeds the condition vector, which the shared
helper does not take yet (the one difference; see the module's report in the card notes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medsynth.runtime.sliding_window import sliding_window_predict
from medsynth.training.export import ParityReport, export_onnx
from medsynth.training.future.spec import FutureSpec

IMAGE_INPUT, CONDITION_INPUT, OUTPUT_NAME = "image", "condition", "output"


def export_model(model, spec: FutureSpec, path: str | Path) -> Path:
    """Write ``model`` as a self-contained ONNX file with inputs ``image`` and ``condition``."""
    return export_onnx(model, spec.patch_size, path, image_input=IMAGE_INPUT, output_name=OUTPUT_NAME,
                       condition_width=spec.condition_width, condition_input=CONDITION_INPUT)


def conditional_parity(model, onnx_path: str | Path, network_input: np.ndarray, condition: np.ndarray,
                       spec: FutureSpec, description: str = "", threads: int = 2) -> ParityReport:
    """Largest and mean |torch − onnxruntime| of all outputs over ``network_input`` (1, z, y, x,
    normalised, on the model grid) with one ``condition`` vector."""
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    model = model.eval()

    def conditions_for(batch: np.ndarray) -> np.ndarray:
        return np.repeat(condition[None].astype(np.float32), len(batch), axis=0)

    def run_torch(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(np.ascontiguousarray(batch)), torch.from_numpy(conditions_for(batch))).numpy()

    def run_onnx(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {IMAGE_INPUT: np.ascontiguousarray(batch, dtype=np.float32),
                                  CONDITION_INPUT: conditions_for(batch)})[0]

    volume = np.asarray(network_input, dtype=np.float32)
    outputs = [sliding_window_predict(run, volume, spec.patch_size, overlap=spec.overlap) for run in (run_torch, run_onnx)]
    difference = np.abs(outputs[0] - outputs[1])
    return ParityReport(float(difference.max()), float(difference.mean()), int(difference.size), description)

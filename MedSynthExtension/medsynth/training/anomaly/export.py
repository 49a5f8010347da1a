"""Export an anomaly model (network + population maps) through the shared export helpers, and its card blocks."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from medsynth.tasks.anomaly.space import MNI_ORIENTATION, MNI_SIZE_XYZ, MNI_SPACING_MM, OUTPUT_NAMES
from medsynth.training.anomaly.model import make_anomaly_network
from medsynth.training.anomaly.spec import TrainingConfig
from medsynth.training.export import ParityReport, check_parity, export_onnx

WEIGHTS_FILE = "model.onnx"
PATCH_SIZE = MNI_SIZE_XYZ[::-1]

_OUTPUT_DESCRIPTIONS = {
    "reconstruction": ("normalised intensity", "The healthy version of the (aligned, brain-masked) input."),
    "template": ("normalised intensity", "Healthy template (registration target); constant."),
    "brain_prior": ("fraction of healthy subjects", "Probability of brain at each voxel; constant."),
    "residual_mean": ("normalised intensity", "Mean smoothed residual of healthy brains; constant."),
    "residual_sd": ("normalised intensity", "Standard deviation of the smoothed residual of healthy brains; constant."),
    "intensity_mean": ("normalised intensity", "Mean healthy intensity (z-score baseline); constant."),
    "intensity_sd": ("normalised intensity", "Standard deviation of healthy intensity (z-score baseline); constant."),
}


def export_anomaly_model(network, maps: Mapping[str, np.ndarray], folder: Path,
                         parity_input: np.ndarray) -> ParityReport:
    """Write ``folder/model.onnx`` and check torch vs onnxruntime on ``parity_input`` (a real
    normalised MNI volume, z, y, x)."""
    exported = make_anomaly_network(network, maps).eval()
    path = export_onnx(exported, PATCH_SIZE, Path(folder) / WEIGHTS_FILE)
    return check_parity(exported, path, parity_input[None].astype(np.float32), PATCH_SIZE, overlap=0.0, batch_size=1,
                        description="torch vs onnxruntime, all 7 channels, one real training volume")


def input_block(config: TrainingConfig) -> dict:
    norm = config.to_dict()["normalization"]
    return {"modality": "MR", "contrast": "T1", "orientation": MNI_ORIENTATION, "spacing_mm": list(MNI_SPACING_MM),
            "normalization": norm}


def inference_block() -> dict:
    return {"patch_size": list(PATCH_SIZE), "overlap": 0.0, "blend": "constant", "batch_size": 1}


def outputs_block() -> list[dict]:
    return [{"name": name, "units": _OUTPUT_DESCRIPTIONS[name][0], "description": _OUTPUT_DESCRIPTIONS[name][1],
             "background_value": 0} for name in OUTPUT_NAMES]

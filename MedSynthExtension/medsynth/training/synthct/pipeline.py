"""After training: ONNX export, parity on a real volume, and the synthetic-CT card blocks.

Shared by ``medsynth train synth-ct`` (SynthRAD folders) and the built-in model command, so
both write cards that describe the network the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medsynth.errors import ModelError
from medsynth.geometry import plan_model_grid, to_model_grid
from medsynth.models.card import CARD_FILE_NAME, load_card
from medsynth.models.registry import ModelEntry
from medsynth.normalize import normalize
from medsynth.training.export import ParityReport, check_parity, export_onnx
from medsynth.training.synthct.model import ModelConfig
from medsynth.training.synthct.spec import AIR_HU, HU_RANGE, HU_SCALE, SynthCTSpec
from medsynth.training.domains import TRAINED_DOMAINS

#: Largest torch-vs-onnxruntime difference (HU) accepted on a real volume.
PARITY_TOLERANCE_HU = 1.0


def runtime_card_blocks(spec: SynthCTSpec, model_config: ModelConfig, contrast: str = "T1-weighted") -> dict:
    """The card's ``input``, ``inference`` and ``outputs`` blocks for a network trained with ``spec``."""
    return {
        "input": {"modality": "MR", "contrast": contrast, "orientation": spec.orientation,
                  "spacing_mm": [float(s) for s in spec.spacing_mm], "normalization": spec.normalization_card()},
        "domain": TRAINED_DOMAINS["synth-ct"],
        "inference": {"patch_size": [int(p) for p in model_config.patch_size], "overlap": spec.overlap,
                      "blend": "gaussian", "sigma_scale": 0.125, "batch_size": 8,
                      "pad_value": float(spec.normalization.target_range[0]), "image_input": "image"},
        "outputs": [{"name": "ct", "units": "HU", "description": "synthetic CT in Hounsfield units",
                     "scale": HU_SCALE, "offset": 0.0, "clip": [float(v) for v in HU_RANGE],
                     "background_value": AIR_HU, "interpolation": "linear"}],
    }


def network_input(mr: sitk.Image, spec: SynthCTSpec) -> np.ndarray:
    """A real MR as the runtime hands it to the network: model grid, normalised, (1, z, y, x)."""
    plan = plan_model_grid(mr, spec.orientation, spec.spacing_mm)
    on_grid = to_model_grid(mr, plan, default_value=float(sitk.GetArrayViewFromImage(mr).min()))
    return normalize(sitk.GetArrayViewFromImage(on_grid), spec.normalization)[None]


def export_generator(model, model_config: ModelConfig, folder: str | Path, weights_name: str) -> Path:
    """Export the trained network into the model folder (self-contained ``.onnx``)."""
    return export_onnx(model, model_config.patch_size, Path(folder) / weights_name, image_input="image", output_name="ct")


def parity_on(model, onnx_path: Path, mr: sitk.Image, description: str, spec: SynthCTSpec,
              model_config: ModelConfig, tolerance_hu: float = PARITY_TOLERANCE_HU) -> ParityReport:
    """torch vs onnxruntime over a whole real MR (HU); raises :class:`ModelError` beyond tolerance."""
    report = check_parity(model, onnx_path, network_input(mr, spec), model_config.patch_size, spec.overlap,
                          scale=HU_SCALE, batch_size=8, description=description)
    if not report.within(tolerance_hu):
        raise ModelError(f"ONNX export of {onnx_path.name} differs from torch by up to {report.max_abs_diff:.3g} HU "
                         f"on {description} (tolerance {tolerance_hu} HU); not writing a card for it.")
    return report


def model_entry(folder: str | Path) -> ModelEntry:
    """The model in ``folder`` as the runtime sees it (card validated, sha256 checked on load)."""
    folder = Path(folder)
    return ModelEntry(load_card(folder / CARD_FILE_NAME), folder, "training")

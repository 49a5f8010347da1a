"""Running ONNX generators: loading with integrity checks, patch inference, conditioning."""

from medsynth.runtime.conditioning import encode_conditions
from medsynth.runtime.generate import GenerationResult, check_modality, run_generator
from medsynth.runtime.onnx_model import OnnxGenerator, default_thread_count
from medsynth.runtime.sliding_window import gaussian_importance_map, sliding_window_predict, window_starts

__all__ = [
    "GenerationResult",
    "OnnxGenerator",
    "check_modality",
    "default_thread_count",
    "encode_conditions",
    "gaussian_importance_map",
    "run_generator",
    "sliding_window_predict",
    "window_starts",
]

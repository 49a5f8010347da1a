"""Export deepbet's brain-extraction networks to ONNX for the torch-free run time (training side).

Why: a heuristic brain mask (population prior ∩ foreground) follows the registration, so skull,
dura and eyes enter the scored region on scans that align imperfectly; deepbet (Fisch et al. 2024,
MIT licence, trained on 7,837 T1 scans of many scanners, skull on) segments the brain itself.
Its TorchScript weights ship inside its wheel (``pip install deepbet==1.0.2``, training side
only); this command traces both networks (the 128³ bounding-box net and the 256³ mask net) to
ONNX so :mod:`medsynth.tasks.anomaly.brain_net` runs them in onnxruntime.

``python -m medsynth.training.anomaly.brain_export [--out DIR]`` (default: the built-in model's
``brain_extraction/`` folder).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from medsynth.models.registry import BUILTIN_MODELS_DIR

#: deepbet networks → ONNX file name and the cube size each is run at.
NETWORKS = {"bbox_model.pt": ("deepbet_bbox.onnx", 128), "model.pt": ("deepbet_mask.onnx", 256)}
DEFAULT_OUT = BUILTIN_MODELS_DIR / "anomaly-brain-t1" / "brain_extraction"


def export_deepbet(out: Path) -> list[Path]:
    """Both deepbet networks written to ``out`` as ONNX (opset 17); the written paths."""
    import torch
    from deepbet.utils import DATA_PATH

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source, (name, size) in NETWORKS.items():
        net = torch.jit.load(str(Path(DATA_PATH) / "models" / source), map_location="cpu").eval()
        path = out / name
        torch.onnx.export(net, torch.zeros(1, 1, size, size, size), str(path), opset_version=17, dynamo=False,
                          input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {2: "x", 3: "y", 4: "z"}, "logits": {2: "x", 3: "y", 4: "z"}})
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for path in export_deepbet(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training extra: torch + MONAI pipelines that produce ONNX generators and their model cards.

Install with ``pip install medsynth[training]`` (torch==2.13.0, monai, onnx). Nothing in the
run-time engine (io, models, runtime, tasks, cli outside the training commands) imports this
package, and importing it does not import torch: torch is imported inside the functions that
train or export, so Slicer and the command line run models with numpy, SimpleITK and
onnxruntime only.

Shared by every trainer: :mod:`medsynth.training.export` (ONNX export and torch-vs-onnxruntime
parity on a real volume) and :mod:`medsynth.training.cards` (model card writing). Task trainers
live in sub-packages (``synthct``).
"""

import os as _os

from medsynth.errors import MedSynthError


class TrainingExtraMissing(MedSynthError):
    """torch / MONAI are not installed."""


def prefer_passive_openmp() -> None:
    """Make OpenMP threads sleep instead of spin while they wait (``OMP_WAIT_POLICY=PASSIVE``).

    On a CPU shared with other jobs, torch's default spinning threads steal each other's time
    slices: measured here, one training step took 4.9 s with spinning threads against 0.76 s
    passive on two busy cores. It only has an effect before torch is first imported, so every
    training entry point calls it before importing torch; a value the user set is kept.
    """
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def require_training_extra() -> None:
    """Prepare OpenMP and import torch and MONAI, or raise :class:`TrainingExtraMissing` saying how
    to install them (every training command calls this first, so it fails early and clearly)."""
    prefer_passive_openmp()
    try:
        import monai  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        raise TrainingExtraMissing(f"Training needs the training extra ({exc.name} is missing): "
                                   "pip install 'medsynth[training]'.") from None

"""MedSynth engine: generative models for the reading room, without Slicer, Qt or torch.

Layers: io / geometry / models (cards, registry, integrity) / runtime (onnxruntime patches)
/ tasks / metrics / reading / qa / provenance / cli. ``medsynth.training`` (torch, MONAI) is an
optional extra and is never imported by anything else in the package.
"""

__version__ = "0.1.0"

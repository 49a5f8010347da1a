"""Synthetic CT from MRI: phantoms, SynthRAD readers, model factory, training, built-in model.

Modules (none imports torch at import time):

* :mod:`.spec` — model grid, normalisation and HU contract shared by data, training and card;
* :mod:`.phantoms` — paired MR/CT head phantoms made from the real data in ``shared/data``;
* :mod:`.data` — SynthRAD2023 (``.nii.gz``) and SynthRAD2025 (``.mha``) case folders;
* :mod:`.model` — 2.5D slab UNet / 3D UNet factory (MONAI);
* :mod:`.train` — masked-HU L1 training loop with validation, checkpoints and resume;
* :mod:`.pipeline` — train → export ONNX → parity → card, shared by both commands;
* :mod:`.validation` — the held-out evaluation (template pair, head_mr_skull) with baselines;
* :mod:`.builtin` — the one command that produces the built-in ``synthct-head`` model.
"""

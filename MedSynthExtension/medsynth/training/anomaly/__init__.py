"""Training a healthy-brain reconstruction model for anomaly maps (torch + MONAI, CPU).

Pipeline: healthy T1 scans (a BIDS or flat folder, plus images already in MNI space) are
registered to MNI space exactly as the run-time task does (:mod:`medsynth.tasks.anomaly.alignment`);
a small 3D UNet learns to remove coarse, blob-shaped intensity corruption from them (a denoising
autoencoder, Kascenas et al. 2022), with spatial and intensity augmentation; the healthy
population maps (template, brain prior, residual and intensity statistics) are computed; the
network and the maps are exported as one ONNX file with the shared export helpers and the model
card is written with the shared card writer.

Reproduce the built-in model with ``python -m medsynth.training.anomaly.builtin --out DIR``.
"""

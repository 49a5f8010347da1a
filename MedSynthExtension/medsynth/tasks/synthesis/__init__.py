"""Targeted synthesis of labelled 2D training images with named, separable factors.

A case is composed in four steps, each owning one factor group, so that setting one factor
cannot change what another one decides (measured in ``medsynth.training.synthesis.factor_checks``):

1. **anatomy** — a real healthy axial T1 slice (:mod:`.anatomy`; which subject, which slice);
2. **shape, size, location** — a real lesion shape (:mod:`.shapes`) scaled to the asked size and
   placed inside the asked brain region (:mod:`.regions`);
3. **appearance** — the lesion's intensities painted inside that mask by the learned ONNX
   generator (class / lesion type, contrast, latent texture code) or by the procedural baseline
   (:mod:`.appearance`);
4. **acquisition style** — contrast (gamma), blur and Rician noise on the whole slice (:mod:`.style`).

Runtime only: numpy, scipy, SimpleITK and onnxruntime.
"""

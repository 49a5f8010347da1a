"""Second training stage: refit the rate head through the trained region network.

Why: after stage one the network's regions are soft and not exactly the parcellation, so sources
calibrated on crisp labels give the wrong change once carried by the network's probabilities
(a blurred hippocampus dilutes its source over its neighbours). Here each training anatomy's
mixing matrix is measured with the network's own probabilities as carriers — exactly what the
runtime does — and the real parcellation as the measure, and every pair's target sources are
refitted so that the deformation the runtime will build reproduces the pair's observed regional
change on real anatomy. The rate head is then trained on those targets with the UNet frozen.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from medsynth.runtime.sliding_window import sliding_window_predict
from medsynth.tasks.future_regions import ACTIVE_REGIONS, one_hot
from medsynth.training.future.calibrate import fitted_sources, mixing_matrix
from medsynth.training.future.dataset import Anatomy, Example
from medsynth.training.future.spec import FutureSpec


def region_probabilities(model, image: np.ndarray, spec: FutureSpec) -> np.ndarray:
    """The network's region probabilities (regions, z, y, x) over a whole normalised volume, blended
    with the runtime's sliding window."""
    import torch

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model.regions(torch.from_numpy(np.ascontiguousarray(batch))), dim=1).numpy()

    return sliding_window_predict(predict, image[None].astype(np.float32), spec.patch_size, overlap=spec.overlap)


def refit_targets(model, anatomies: Sequence[Anatomy], examples: Sequence[Example], spec: FutureSpec,
                  log: Callable[[str], None] = print) -> list[Example]:
    """``examples`` with sources refitted through ``model``'s regions (see the module docstring)."""
    model.eval()
    refitted = list(examples)
    for index, anatomy in enumerate(anatomies):
        carriers = region_probabilities(model, anatomy.image, spec)
        measure = one_hot(anatomy.grouped)
        matrix = mixing_matrix(carriers, spec.spacing_zyx, measure)
        for number, example in enumerate(examples):
            if example.anatomy != index:
                continue
            rates = dict(zip(ACTIVE_REGIONS, (float(v) for v in example.rates)))
            fitted = fitted_sources(carriers, spec.spacing_zyx, matrix, rates, example.years, measure=measure)
            refitted[number] = dataclasses.replace(
                example, sources=np.array([fitted[name] for name in ACTIVE_REGIONS], dtype=np.float32))
        log(f"  refitted the sources of anatomy {index + 1}/{len(anatomies)}")
    return refitted

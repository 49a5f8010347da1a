"""Does changing one factor change only its own aspect? Three measurements on pairs of cases that
differ in exactly one factor (everything else, random streams included, is the same):

* **lesion size → rest of the brain**: SSIM of the two images over the brain outside both lesions
  dilated by 5 voxels (10 mm: the 7 × 7 SSIM window's half-width, 3, plus the partial-volume and
  blur border, 2 — closer voxels' windows see the lesion itself); target ≥ 0.98;
* **style → anatomy**: Dice of a 3-class tissue segmentation (multi-Otsu thresholds inside the
  brain: CSF-like / grey / white) of the unstyled and the styled image; target ≥ 0.9;
* **anatomy → lesion size**: relative spread (max / min − 1) of the lesion area over subjects for
  the same lesion factors; target ≤ 10 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import scipy.ndimage as ndi

from medsynth.tasks.synthesis.anatomy import HealthyVolume
from medsynth.tasks.synthesis.compose import Painter, SynthCase, synthesize_case
from medsynth.tasks.synthesis.factors import Factor, sample_factors

OUTSIDE_MARGIN_VOXELS = 5
NO_STYLE = {"contrast_gamma": 1.0, "blur_mm": 0.0, "noise_sd": 0.0}


def ssim_outside(first: SynthCase, second: SynthCase) -> float:
    """Mean SSIM over the brain outside both lesions (dilated by OUTSIDE_MARGIN_VOXELS)."""
    from skimage.metrics import structural_similarity

    lesions = ndi.binary_dilation((first.label > 0) | (second.label > 0), iterations=OUTSIDE_MARGIN_VOXELS)
    a, b = first.image, second.image
    data_range = float(max(a.max(), b.max()) - min(a.min(), b.min()))
    _, full = structural_similarity(a, b, data_range=data_range, full=True)
    return float(full[first.brain & ~lesions].mean())


def tissue_classes(image: np.ndarray, brain: np.ndarray) -> np.ndarray:
    """0 outside the brain, 1–3 by two multi-Otsu thresholds of the brain's intensities."""
    from skimage.filters import threshold_multiotsu

    thresholds = threshold_multiotsu(image[brain], classes=3)
    return np.where(brain, 1 + np.digitize(image, thresholds), 0)


def tissue_dice(first: np.ndarray, second: np.ndarray, brain: np.ndarray) -> float:
    """Mean Dice over the three tissue classes of two images of the same anatomy."""
    a, b = tissue_classes(first, brain), tissue_classes(second, brain)
    return float(np.mean([2 * ((a == k) & (b == k)).sum() / max((a == k).sum() + (b == k).sum(), 1) for k in (1, 2, 3)]))


@dataclass(frozen=True)
class SeparabilityReport:
    ssim_outside_lesion: list[float]
    tissue_dice_after_style: list[float]
    lesion_area_spread_over_anatomy: list[float]

    def summary(self) -> dict:
        def stats(values, target, above):
            values = np.asarray(values)
            met = values >= target if above else values <= target
            return {"mean": round(float(values.mean()), 4), "min": round(float(values.min()), 4),
                    "max": round(float(values.max()), 4), "target": target, "fraction_meeting_target": round(float(met.mean()), 3),
                    "pairs": int(len(values))}
        return {"size_change_ssim_outside_lesion": stats(self.ssim_outside_lesion, 0.98, True),
                "style_change_tissue_dice": stats(self.tissue_dice_after_style, 0.9, True),
                "anatomy_change_lesion_area_spread": stats(self.lesion_area_spread_over_anatomy, 0.10, False)}


def measure_separability(volumes: Mapping[str, HealthyVolume], shapes: Sequence, painter: Painter,
                         space: Mapping[str, Factor], cases: int = 20, seed: int = 0,
                         sizes_ml: tuple[float, float] = (2.0, 10.0),
                         type_contrast: Mapping[str, tuple] | None = None) -> SeparabilityReport:
    """The three measurements over ``cases`` random base cases (class = lesion)."""
    ssim, dice, spread = [], [], []
    for index in range(cases):
        base = {**sample_factors(space, seed, index, **({"type_contrast": type_contrast} if type_contrast else {})),
                "class": "lesion"}

        def make(**change) -> SynthCase:
            values = {**base, **change}
            return synthesize_case(volumes[values["anatomy"]], shapes, painter, values, seed, index)

        small, large = make(lesion_volume_ml=sizes_ml[0]), make(lesion_volume_ml=sizes_ml[1])
        ssim.append(ssim_outside(small, large))
        plain = make(**NO_STYLE)
        dice.append(tissue_dice(plain.image, make().image, plain.brain))
        areas = [make(anatomy=name).label.sum() for name in volumes]
        spread.append(float(max(areas) / max(min(areas), 1) - 1))
    return SeparabilityReport(ssim, dice, spread)

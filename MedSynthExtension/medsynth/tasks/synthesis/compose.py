"""Compose one case from its factor values: anatomy → lesion shape/size/place → appearance → style."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence

import numpy as np

from medsynth.tasks.synthesis.anatomy import HealthyVolume
from medsynth.tasks.synthesis.factors import factor_rng
from medsynth.tasks.synthesis.regions import region_number
from medsynth.tasks.synthesis.shapes import choose_shape, place_shape, section_area_mm2, volume_ml_of_section
from medsynth.tasks.synthesis.style import AcquisitionStyle


class Painter(Protocol):
    name: str

    def paint(self, image: np.ndarray, lesion: np.ndarray, brain: np.ndarray, values: Mapping[str, object],
              centre: tuple[int, int], seed: int) -> np.ndarray: ...


@dataclass(frozen=True)
class SynthCase:
    """A synthesized slice (× brain median, style applied), its lesion label, the healthy slice
    before painting and style, and what was measured on it."""

    image: np.ndarray
    label: np.ndarray
    healthy: np.ndarray
    brain: np.ndarray
    origin_mm: tuple[float, float, float]
    measured: dict = field(default_factory=dict)


def synthesize_case(volume: HealthyVolume, shapes: Sequence[tuple[str, np.ndarray]], painter: Painter,
                    values: Mapping[str, object], seed: int, case_index: int) -> SynthCase:
    """The case ``values`` describe (``values['anatomy']`` must be ``volume``'s subject)."""
    region = str(values["region"])
    index = volume.choose_slice(region, factor_rng(seed, case_index, "slice"))
    healthy, brain = volume.t1[index], volume.brain[index]
    measured = {"slice_index": index, "lesion_shape": "", "lesion_area_mm2": 0.0, "lesion_volume_ml_measured": 0.0,
                "lesion_centre_rc": ""}
    label = np.zeros(brain.shape, np.uint8)
    image = healthy
    if values["class"] == "lesion":
        area = section_area_mm2(float(values["lesion_volume_ml"]))
        shape_name, shape = choose_shape(shapes, area, factor_rng(seed, case_index, "lesion_shape"))
        placed = place_shape(shape, area,
                             volume.regions[index] == region_number(region), brain,
                             factor_rng(seed, case_index, "lesion_place"))
        image = painter.paint(healthy, placed.mask, brain, values, placed.centre,
                              int(factor_rng(seed, case_index, "texture").integers(2 ** 31)))
        label = placed.mask.astype(np.uint8)
        measured.update(lesion_shape=shape_name, lesion_area_mm2=placed.area_mm2,
                        lesion_volume_ml_measured=round(volume_ml_of_section(placed.area_mm2), 3),
                        lesion_centre_rc=f"{placed.centre[0]} {placed.centre[1]}")
    style = AcquisitionStyle(float(values["contrast_gamma"]), float(values["blur_mm"]), float(values["noise_sd"]))
    styled = style.apply(image, int(factor_rng(seed, case_index, "noise").integers(2 ** 31)))
    return SynthCase(styled, label, healthy, brain, volume.slice_origin(index), measured)

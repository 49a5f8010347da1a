"""The named factors of a synthesized case, how a user fixes them and how the rest are drawn.

``--factor name=value`` fixes a factor, ``name=low-high`` draws it uniformly in a range,
``name=a,b`` draws one of the listed categories; factors not given are drawn over their whole
range. Every factor is drawn from its own random stream (case seed + factor name), so fixing
or changing one factor never changes the values another one gets.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np

from medsynth.errors import InputError
from medsynth.tasks.synthesis.appearance import LATENT_NAMES
from medsynth.tasks.synthesis.regions import REGIONS

LESION_TYPES = ("tumour", "stroke")
CLASSES = ("healthy", "lesion")
LATENT_RANGE = (-2.5, 2.5)
#: The lesion_contrast range per lesion type when no model card gives one (× brain median T1).
DEFAULT_CONTRAST = {"tumour": (0.55, 0.95), "stroke": (0.3, 0.7)}
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d*)?)\s*-\s*(-?\d+(?:\.\d*)?)\s*$")


@dataclass(frozen=True)
class Factor:
    """One factor: a number within ``limits`` or one of ``categories``; ``draw`` is what the
    user asked for (a range, a set of categories), by default everything allowed."""

    name: str
    description: str
    categories: tuple[str, ...] = ()
    limits: tuple[float, float] | None = None
    units: str = ""
    draw: tuple = ()

    def sample(self, rng: np.random.Generator):
        if self.categories:
            options = self.draw or self.categories
            return str(options[int(rng.integers(len(options)))])
        low, high = self.draw or self.limits
        if self.name in LATENT_NAMES and not self.draw:
            return round(float(np.clip(rng.standard_normal(), low, high)), 4)
        return round(float(rng.uniform(low, high)), 4)

    def restricted(self, text: str) -> "Factor":
        """This factor limited to what ``text`` (a value, ``low-high`` or ``a,b``) allows."""
        if self.categories:
            chosen = tuple(part.strip() for part in text.split(","))
            unknown = [c for c in chosen if c not in self.categories]
            if unknown:
                raise InputError(f"{self.name}={text}: {unknown} not among {list(self.categories)}.")
            return replace(self, draw=chosen)
        match = _RANGE.match(text)
        try:
            low, high = (float(match.group(1)), float(match.group(2))) if match else (float(text),) * 2
        except ValueError:
            raise InputError(f"{self.name}={text}: give a number or a range low-high "
                             f"({self.limits[0]:g}–{self.limits[1]:g} {self.units}).") from None
        if not (self.limits[0] <= low <= high <= self.limits[1]):
            raise InputError(f"{self.name}={text} is outside {self.limits[0]:g}–{self.limits[1]:g} {self.units}"
                             " (the range this model supports).".replace("  ", " "))
        return replace(self, draw=(low, high))

    def to_card(self) -> dict:
        entry = {"name": self.name, "description": self.description}
        if self.categories:
            entry["categories"] = list(self.categories)
        else:
            entry.update(range=list(self.limits), units=self.units)
        return entry


def factor_space(anatomy_names: Sequence[str], contrast_limits: tuple[float, float] = (0.2, 1.6),
                 max_volume_ml: float = 60.0) -> dict[str, Factor]:
    """Every factor, in manifest order."""
    factors = [
        Factor("class", "healthy slice or one with a lesion", CLASSES),
        Factor("lesion_type", "tumour-like (glioma / metastasis) or stroke-like appearance", LESION_TYPES),
        Factor("lesion_volume_ml", "lesion size: volume of the sphere whose central section has the lesion's area",
               limits=(0.5, max_volume_ml), units="mL"),
        Factor("region", "brain region of the lesion's centre (and of the slice)", REGIONS),
        Factor("lesion_contrast", "mean lesion intensity on T1", limits=contrast_limits, units="× brain median"),
        *(Factor(name, "latent texture code of the appearance generator", limits=LATENT_RANGE)
          for name in LATENT_NAMES),
        Factor("anatomy", "which healthy subject gives the anatomy", tuple(anatomy_names)),
        Factor("contrast_gamma", "acquisition contrast: intensity ** gamma", limits=(0.7, 1.4)),
        Factor("blur_mm", "acquisition blur: Gaussian standard deviation", limits=(0.0, 2.0), units="mm"),
        Factor("noise_sd", "acquisition noise: Rician noise standard deviation", limits=(0.0, 0.08),
               units="× brain median"),
    ]
    return {factor.name: factor for factor in factors}


def parse_factor_options(options: Sequence[str], space: Mapping[str, Factor]) -> dict[str, Factor]:
    """``space`` with the ``name=value`` options applied."""
    space = dict(space)
    for option in options:
        name, sep, text = option.partition("=")
        name = name.strip()
        if not sep or not text.strip():
            raise InputError(f"--factor {option!r}: write name=value, name=low-high or name=a,b.")
        if name not in space:
            raise InputError(f"Unknown factor '{name}'; the factors are {', '.join(space)}.")
        space[name] = space[name].restricted(text.strip())
    return space


def factor_rng(seed: int, case_index: int, name: str) -> np.random.Generator:
    """The random stream of one factor of one case."""
    return np.random.default_rng([seed, case_index, zlib.crc32(name.encode())])


def sample_factors(space: Mapping[str, Factor], seed: int, case_index: int,
                   type_contrast: Mapping[str, tuple[float, float]] = DEFAULT_CONTRAST) -> dict[str, object]:
    """One case's factor values. Unless lesion_contrast was restricted, it is drawn in the range
    typical of the case's lesion type (``type_contrast``)."""
    values = {name: factor.sample(factor_rng(seed, case_index, name)) for name, factor in space.items()}
    contrast = space["lesion_contrast"]
    if not contrast.draw and values["lesion_type"] in type_contrast:
        low, high = type_contrast[values["lesion_type"]]
        within = (max(low, contrast.limits[0]), min(high, contrast.limits[1]))
        values["lesion_contrast"] = replace(contrast, draw=within).sample(factor_rng(seed, case_index, "lesion_contrast"))
    return values

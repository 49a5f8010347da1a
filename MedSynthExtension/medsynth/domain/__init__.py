"""The domain of validity: what a model's figures were measured on, and whether an input is like it."""

from medsynth.domain.measure import measure_domain
from medsynth.domain.report import DomainReport

__all__ = ["DomainReport", "measure_domain"]

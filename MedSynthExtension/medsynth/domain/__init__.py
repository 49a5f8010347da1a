"""The domain of validity: what a model's figures were measured on, and whether an input is like it.

``measure_domain(image)`` reads the input's traits (:class:`DomainReport`); ``enforce_domain(image,
card, allow_outside)`` compares them with the card's ``domain`` block (:class:`DomainCheck`, or
:class:`OutsideDomainError`).
"""

from medsynth.domain.gate import (STAMP_PREFIX, DomainCheck, OutsideDomainError, domain_summary, enforce_domain,
                                  needs_text)
from medsynth.domain.measure import measure_domain
from medsynth.domain.report import DomainReport

__all__ = ["STAMP_PREFIX", "DomainCheck", "DomainReport", "OutsideDomainError", "domain_summary", "enforce_domain", "measure_domain",
           "needs_text"]

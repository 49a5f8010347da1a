"""Turn named conditions (age=72, diagnosis="MCI") into the vector a model takes, checked against its card."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from medsynth.errors import InputError
from medsynth.models.card import ModelCard


def encode_conditions(card: ModelCard, values: Mapping[str, Any] | None) -> np.ndarray | None:
    """The float32 conditioning vector, or None for an unconditioned model.

    Raises :class:`InputError` for a missing, unknown, out-of-range or mis-typed value, naming the
    valid range or categories from the card.
    """
    values = dict(values or {})
    if not card.conditions:
        if values:
            raise InputError(f"Model {card.id} takes no conditions, but {sorted(values)} were given.")
        return None
    unknown = sorted(set(values) - {c.name for c in card.conditions})
    if unknown:
        raise InputError(f"Model {card.id} does not know the condition(s) {unknown}; it takes "
                         f"{[c.name for c in card.conditions]}.")
    parts: list[np.ndarray] = []
    for condition in card.conditions:
        if condition.name not in values:
            raise InputError(f"Model {card.id} needs the condition '{condition.name}' ({_describe(condition)}).")
        value = values[condition.name]
        if condition.kind == "category":
            if value not in condition.categories:
                raise InputError(f"'{value}' is not a valid {condition.name}; choose one of {list(condition.categories)}.")
            one_hot = np.zeros(len(condition.categories), dtype=np.float32)
            one_hot[condition.categories.index(value)] = 1.0
            parts.append(one_hot)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{condition.name} must be a number, got {value!r}.") from None
        low, high = condition.range
        if not (np.isfinite(number) and low <= number <= high):
            raise InputError(f"{condition.name} = {value} is outside the range the model was trained for "
                             f"({_describe(condition)}).")
        parts.append(np.array([(number - condition.offset) * condition.scale], dtype=np.float32))
    return np.concatenate(parts)


def _describe(condition) -> str:
    if condition.kind == "category":
        return "one of " + ", ".join(condition.categories)
    low, high = condition.range
    return f"{low:g}–{high:g} {condition.units}".rstrip()

"""What the condition fields of the panel may hold, checked against the model card (Qt-free presenter).

The panel shows the card's ranges and categories, and Apply stays disabled with the reason shown
until every field is valid, using the runtime's own check
(:func:`medsynth.runtime.conditioning.encode_conditions`), so the panel and the engine can never
disagree about what is allowed.
"""

from __future__ import annotations

from medsynth.errors import InputError
from medsynth.models.card import ModelCard
from medsynth.runtime.conditioning import encode_conditions

#: Most timepoints one run may predict (each is one pass of the network).
MAX_TIMEPOINTS = 10


def intervals(years: float, timepoints: int) -> list[float]:
    """``timepoints`` evenly spaced intervals ending at ``years`` (e.g. 6 years, 3 → 2, 4, 6)."""
    count = max(int(timepoints), 1)
    return [round(years * step / count, 4) for step in range(1, count + 1)]


def condition_problem(card: ModelCard, age: float, sex: str, diagnosis: str, years: float, timepoints: int) -> str | None:
    """None when the fields are valid for ``card``; else one sentence saying what to change."""
    if not 1 <= int(timepoints) <= MAX_TIMEPOINTS:
        return f"Choose between 1 and {MAX_TIMEPOINTS} timepoints."
    if years <= 0:
        return "Choose an interval of more than 0 years."
    try:
        for interval in intervals(years, timepoints):
            encode_conditions(card, {"age": age, "sex": sex, "diagnosis": diagnosis, "years": interval})
    except InputError as exc:
        return str(exc)
    return None


def card_ranges(card: ModelCard) -> str:
    """One line listing every condition's valid range or categories, e.g. for a label under the fields."""
    parts = []
    for condition in card.conditions:
        if condition.kind == "category":
            parts.append(f"{condition.name}: {' / '.join(condition.categories)}")
        else:
            low, high = condition.range
            parts.append(f"{condition.name}: {low:g}–{high:g} {condition.units}".rstrip())
    return " · ".join(parts)

"""The reader's keyboard: one table from key to action, built from the study's questions.

A reader who reads 40 cases answers faster and more consistently from the keyboard, with eyes on
the image. The table lives here, Qt-free, so it is tested; the widget only turns each row into a
``qt.QShortcut`` with the row's key (Qt key-sequence text).

Keys: R / S choose real / synthetic; 1-5 the confidence; Alt+1..Alt+9 the first rating scale
(plain digits when no confidence is asked; Ctrl+digit is avoided because Slicer uses Ctrl+3 for
its Python console); Return / Enter / N save and go to the next case; P goes back (only when the
study allows revisiting); M places an artefact mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from medsynth.reading import Question
from medsynth.reading.questions import LIKERT, POINT_MARKS, REAL_OR_SYNTHETIC

#: ``action`` values: "answer" sets ``field`` of ``question_id`` to ``value``; the others navigate.
ANSWER, NEXT, PREVIOUS, MARK = "answer", "next", "previous", "mark"
#: ``field`` values of an answer shortcut.
CHOICE, CONFIDENCE, RATING = "choice", "confidence", "rating"
NEXT_KEYS = ("Return", "Enter", "N")
PREVIOUS_KEY = "P"
MARK_KEY = "M"
CHOICE_KEYS = {"real": "R", "synthetic": "S"}
#: Modifier for the digits of the first rating scale when plain digits are taken by the confidence.
RATING_MODIFIER = "Alt+"


@dataclass(frozen=True)
class Shortcut:
    """One key: what it does, and the words a help table shows for it."""

    key: str
    action: str
    description: str
    question_id: str | None = None
    field: str | None = None
    value: str | int | None = None


def shortcut_table(questions: Sequence[Question], allow_revisit: bool) -> tuple[Shortcut, ...]:
    """Every shortcut of a session with these questions; keys are unique."""
    table: list[Shortcut] = []
    digits_taken = False
    choice = next((q for q in questions if q.kind == REAL_OR_SYNTHETIC), None)
    if choice is not None:
        for value, key in CHOICE_KEYS.items():
            table.append(Shortcut(key, ANSWER, value, choice.question_id, CHOICE, value))
        if choice.confidence:
            table += [Shortcut(str(level), ANSWER, "confidence", choice.question_id, CONFIDENCE, level)
                      for level in range(1, 6)]
            digits_taken = True
    rating = next((q for q in questions if q.kind == LIKERT), None)
    if rating is not None:
        modifier = RATING_MODIFIER if digits_taken else ""
        table += [Shortcut(f"{modifier}{value}", ANSWER, rating.question_id.replace("_", " "), rating.question_id,
                           RATING, value)
                  for value in range(rating.scale_min, rating.scale_max + 1) if 0 <= value <= 9]
    marks = next((q for q in questions if q.kind == POINT_MARKS), None)
    if marks is not None:
        table.append(Shortcut(MARK_KEY, MARK, "place a mark", marks.question_id))
    table += [Shortcut(key, NEXT, "save and go to the next case") for key in NEXT_KEYS]
    if allow_revisit:
        table.append(Shortcut(PREVIOUS_KEY, PREVIOUS, "go back to the previous case"))
    return tuple(table)


def help_text(table: Sequence[Shortcut]) -> str:
    """One line per action for the panel, e.g. ``R / S: real / synthetic`` or ``1 … 5: confidence``."""
    groups: dict[tuple, list[Shortcut]] = {}
    for shortcut in table:
        groups.setdefault((shortcut.action, shortcut.question_id, shortcut.field), []).append(shortcut)
    lines = []
    for rows in groups.values():
        keys = " / ".join(r.key for r in rows) if len(rows) <= 3 else f"{rows[0].key} … {rows[-1].key}"
        lines.append(f"{keys}: {' / '.join(dict.fromkeys(r.description for r in rows))}")
    return "\n".join(lines)

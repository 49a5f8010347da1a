"""What the reader's question panel shows and when it lets the reader go on, without Qt.

The widget draws one box per :class:`Control` (rows of toggle buttons, a text line, or a
"place mark" button), copies the clicks into :class:`QuestionPanel`, and reads back which button
is on, whether Next is enabled and the sentence that says what is still missing. So the rules a
reader meets (an incomplete answer cannot be saved; a revisited case shows its stored answer;
shortcuts do what the help says) are tested with pytest, not trusted to GUI code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from MedSynthReaderLib.shortcuts import ANSWER, CHOICE, CONFIDENCE, RATING, shortcut_table
from medsynth.reading import AnswerError, CaseView, Question
from medsynth.reading.questions import (CHOICES, CONFIDENCE_MAX, CONFIDENCE_MIN, FREE_TEXT, LIKERT, POINT_MARKS,
                                        REAL_OR_SYNTHETIC)

#: Field of a free-text answer in the panel's draft.
TEXT = "text"
_FIELDS = {REAL_OR_SYNTHETIC: (CHOICE, CONFIDENCE), LIKERT: (RATING,), FREE_TEXT: (TEXT,), POINT_MARKS: ()}


@dataclass(frozen=True)
class ButtonRow:
    """Mutually exclusive toggle buttons setting one field: ``options`` are ``(value, button text)``."""

    field: str
    caption: str
    options: tuple[tuple[Any, str], ...]


@dataclass(frozen=True)
class Control:
    """One question's box in the panel; ``kind`` is the engine's question kind."""

    question_id: str
    kind: str
    title: str
    rows: tuple[ButtonRow, ...] = ()
    max_points: int | None = None
    hint: str = ""


class QuestionPanel:
    """The answer being given to the case on screen, checked against the study's questions."""

    def __init__(self, questions: Sequence[Question], allow_revisit: bool = False) -> None:
        self.questions = tuple(questions)
        self.shortcuts = shortcut_table(self.questions, allow_revisit)
        self.controls = tuple(_control(q, self._hint(q)) for q in self.questions)
        self._by_id = {q.question_id: q for q in self.questions}
        self._draft: dict[str, dict[str, Any]] = {}
        #: Placed marks per point-marks question (shown only; the points come from the markups nodes).
        self.point_counts: dict[str, int] = {}

    # -- filling in ----------------------------------------------------------------------
    def reset(self, stored: Mapping[str, Any] | None = None) -> None:
        """Empty for a new case, or the stored answer (engine form) of a revisited case."""
        self._draft, self.point_counts = {}, {}
        for question in self.questions:
            value = (stored or {}).get(question.question_id)
            if value is None:
                continue
            if question.kind == REAL_OR_SYNTHETIC:
                self._draft[question.question_id] = {CHOICE: value.get("choice"), CONFIDENCE: value.get("confidence")}
            elif question.kind == LIKERT:
                self._draft[question.question_id] = {RATING: value}
            elif question.kind == FREE_TEXT:
                self._draft[question.question_id] = {TEXT: value}
            else:
                self.point_counts[question.question_id] = len(value)

    def set(self, question_id: str, field: str, value: Any) -> None:
        """Record one click or keystroke (``field`` is choice, confidence, rating or text)."""
        question = self._by_id.get(question_id)
        if question is None or field not in _FIELDS[question.kind]:
            raise ValueError(f"Question {question_id!r} has no field {field!r}.")
        self._draft.setdefault(question_id, {})[field] = value

    def value(self, question_id: str, field: str) -> Any:
        return self._draft.get(question_id, {}).get(field)

    def apply_shortcut(self, key: str) -> str | None:
        """Do what ``key`` does to the answer; returns a navigation action (next, previous, mark)
        for the caller to perform, or ``None``."""
        shortcut = next((s for s in self.shortcuts if s.key == key), None)
        if shortcut is None:
            return None
        if shortcut.action == ANSWER:
            self.set(shortcut.question_id, shortcut.field, shortcut.value)
            return None
        return shortcut.action

    # -- checking ------------------------------------------------------------------------
    def missing(self) -> list[str]:
        """What still needs an answer, each with its keys, e.g. ``"real or synthetic (R / S)"``."""
        needed = []
        for question in self.questions:
            qid, draft = question.question_id, self._draft.get(question.question_id, {})
            if question.kind == REAL_OR_SYNTHETIC:
                started = draft.get(CONFIDENCE) is not None
                if draft.get(CHOICE) is None and (question.required or started):
                    needed.append(f"real or synthetic ({self.keys_for(qid, (CHOICE,))})")
                if question.confidence and question.required and draft.get(CONFIDENCE) is None:
                    needed.append(f"confidence ({self.keys_for(qid, (CONFIDENCE,))})")
            elif question.kind == LIKERT and question.required and draft.get(RATING) is None:
                needed.append(f"{_label(question)} ({self.keys_for(qid, (RATING,)) or 'buttons'})")
            elif question.kind == FREE_TEXT and question.required and not str(draft.get(TEXT) or "").strip():
                needed.append(_label(question))
        return needed

    @property
    def complete(self) -> bool:
        """Whether the answer can be saved (Next enabled)."""
        return not self.missing()

    @property
    def status_text(self) -> str:
        missing = self.missing()
        return f"Still to answer: {', '.join(missing)}." if missing else "Answer complete: Next saves it."

    def answers(self, point_marks: Mapping[str, list] | None = None) -> dict[str, Any]:
        """The answer in the engine's form; ``point_marks`` maps question id -> points (LPS)."""
        if not self.complete:
            raise AnswerError(self.status_text)
        answers: dict[str, Any] = {}
        for question in self.questions:
            qid, draft = question.question_id, self._draft.get(question.question_id, {})
            if question.kind == REAL_OR_SYNTHETIC and draft.get(CHOICE) is not None:
                answers[qid] = {"choice": draft[CHOICE]}
                if question.confidence and draft.get(CONFIDENCE) is not None:
                    answers[qid]["confidence"] = draft[CONFIDENCE]
            elif question.kind == LIKERT and draft.get(RATING) is not None:
                answers[qid] = draft[RATING]
            elif question.kind == FREE_TEXT and str(draft.get(TEXT) or "").strip():
                answers[qid] = draft[TEXT]
            elif question.kind == POINT_MARKS:
                answers[qid] = list((point_marks or {}).get(qid, []))
        return answers

    def keys_for(self, question_id: str, fields: Sequence[str]) -> str:
        """The keys of a field as help text: ``R / S`` or ``1 … 5`` (empty when it has none)."""
        keys = [s.key for s in self.shortcuts if s.question_id == question_id and s.field in fields]
        return " / ".join(keys) if len(keys) <= 3 else f"{keys[0]} … {keys[-1]}"

    def _hint(self, question: Question) -> str:
        keys = [self.keys_for(question.question_id, (field,)) for field in _FIELDS[question.kind] or (None,)]
        return "Keys: " + "; ".join(k for k in keys if k) if any(keys) else ""


def progress_text(view: CaseView | None, done: int, total: int) -> str:
    """``"12 / 40"`` (the case on screen of all cases), or the end-of-session message."""
    if view is None:
        return f"All {total} cases answered ({done} / {total}). Thank you!"
    return f"{view.position + 1} / {view.total}"


def previous_enabled(view: CaseView | None, allow_revisit: bool) -> bool:
    """Previous is offered when the study allows revisiting and there is a case before this one
    (after the last case, Previous goes back to it)."""
    return allow_revisit and (view is None or view.position > 0)


def given_path(value: Any) -> str | None:
    """A path from a panel field, or ``None`` when the field is empty (``""`` or ``"."``)."""
    text = str(value or "").strip()
    return None if text in ("", ".") else text


def reader_ids(text: str) -> list[str]:
    """Reader ids typed as ``"r1, r2 r3"``."""
    return [part for part in text.replace(",", " ").split() if part]


def _label(question: Question) -> str:
    return question.question_id.replace("_", " ")


def _control(question: Question, hint: str) -> Control:
    title = question.text + ("" if question.required else " (optional)")
    if question.kind == REAL_OR_SYNTHETIC:
        rows = [ButtonRow(CHOICE, "", tuple((c, c.capitalize()) for c in CHOICES))]
        if question.confidence:
            rows.append(ButtonRow(CONFIDENCE, f"Confidence ({CONFIDENCE_MIN} = guessing, {CONFIDENCE_MAX} = certain)",
                                  tuple((level, str(level)) for level in range(CONFIDENCE_MIN, CONFIDENCE_MAX + 1))))
        return Control(question.question_id, question.kind, title, tuple(rows), hint=hint)
    if question.kind == LIKERT:
        labels = dict(question.labels)
        options = tuple((v, f"{v} {labels[v]}" if v in labels else str(v))
                        for v in range(question.scale_min, question.scale_max + 1))
        return Control(question.question_id, question.kind, title, (ButtonRow(RATING, "", options),), hint=hint)
    if question.kind == POINT_MARKS:
        return Control(question.question_id, question.kind, title, max_points=question.max_points, hint=hint)
    return Control(question.question_id, question.kind, title, hint=hint)

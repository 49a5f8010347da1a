"""The questions a reader answers for each case, and the checking of each answer.

Four kinds, the ones a real-vs-synthetic reader study needs:

- ``real_or_synthetic``: forced choice "real" / "synthetic", optionally with a confidence 1–5
  (1 = guessing, 5 = certain). Its answer is stored as ``{"choice": ..., "confidence": ...}``.
- ``likert``: an integer rating on a closed scale (default 1–5), e.g. realism.
- ``free_text``: a comment.
- ``point_marks``: points the reader puts on artefacts, in millimetres, stored in LPS (the ITK
  frame the engine uses); a point given as ``ras_mm`` (Slicer's frame) is flipped to LPS here, so
  the Slicer logic can pass markup positions as they are.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from medsynth.reading.errors import AnswerError

REAL_OR_SYNTHETIC = "real_or_synthetic"
LIKERT = "likert"
FREE_TEXT = "free_text"
POINT_MARKS = "point_marks"
#: Question kinds a study may use.
QUESTION_TYPES = (REAL_OR_SYNTHETIC, LIKERT, FREE_TEXT, POINT_MARKS)
#: Other names accepted in study files for the same kinds.
QUESTION_TYPE_ALIASES = {"forced_choice": REAL_OR_SYNTHETIC, "text": FREE_TEXT, "points": POINT_MARKS}
#: The two answers of a ``real_or_synthetic`` question.
CHOICES = ("real", "synthetic")
#: Confidence scale of a ``real_or_synthetic`` answer (1 = guessing, 5 = certain).
CONFIDENCE_MIN, CONFIDENCE_MAX = 1, 5
#: Longest free-text answer kept (characters); longer text is refused rather than cut silently.
MAX_TEXT_LENGTH = 20000

_ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_DEFAULT_TEXT = {
    REAL_OR_SYNTHETIC: "Is this image real or synthetic?",
    LIKERT: "How realistic does this image look? (1 = clearly artificial, 5 = indistinguishable from real)",
    FREE_TEXT: "Comments",
    POINT_MARKS: "Mark any artefacts you see",
}


@dataclass(frozen=True)
class Question:
    """One question, as defined in the study file; ``kind`` is one of :data:`QUESTION_TYPES`."""

    question_id: str
    kind: str
    text: str
    required: bool = True
    #: ``real_or_synthetic`` only: also ask how confident the reader is (1–5).
    confidence: bool = True
    #: ``likert`` only: lowest and highest allowed rating (inclusive).
    scale_min: int = 1
    scale_max: int = 5
    #: ``likert`` only: words for some ratings, e.g. ``((1, "clearly artificial"), (5, "real"))``.
    labels: tuple[tuple[int, str], ...] = field(default_factory=tuple)
    #: ``point_marks`` only: most points a reader may place on one case (``None``: no limit).
    max_points: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form, the same shape a study file uses."""
        data: dict[str, Any] = {"id": self.question_id, "type": self.kind, "text": self.text,
                                "required": self.required}
        if self.kind == REAL_OR_SYNTHETIC:
            data["confidence"] = self.confidence
        elif self.kind == LIKERT:
            data.update(min=self.scale_min, max=self.scale_max)
            if self.labels:
                data["labels"] = {str(k): v for k, v in self.labels}
        elif self.kind == POINT_MARKS and self.max_points is not None:
            data["max_points"] = self.max_points
        return data

    def normalise_answer(self, value: Any) -> Any:
        """Check one answer to this question and return its stored form.

        Raises :class:`AnswerError` naming the question and the allowed values.
        """
        where = f"answer to question '{self.question_id}'"
        if self.kind == REAL_OR_SYNTHETIC:
            return self._normalise_choice(value, where)
        if self.kind == LIKERT:
            rating = _as_int(value)
            if rating is None or not self.scale_min <= rating <= self.scale_max:
                raise AnswerError(f"The {where} must be a whole number from {self.scale_min} to "
                                  f"{self.scale_max}; got {value!r}.")
            return rating
        if self.kind == FREE_TEXT:
            if not isinstance(value, str):
                raise AnswerError(f"The {where} must be text; got {type(value).__name__}.")
            if len(value) > MAX_TEXT_LENGTH:
                raise AnswerError(f"The {where} is {len(value)} characters long; shorten it to at most "
                                  f"{MAX_TEXT_LENGTH}.")
            return value
        return self._normalise_points(value, where)

    def _normalise_choice(self, value: Any, where: str) -> dict[str, Any]:
        if isinstance(value, str):
            value = {"choice": value}
        if not isinstance(value, Mapping):
            raise AnswerError(f"The {where} must be 'real' or 'synthetic', or a mapping "
                              f"{{'choice': ..., 'confidence': 1-5}}; got {value!r}.")
        unknown = set(value) - {"choice", "confidence"}
        if unknown:
            raise AnswerError(f"The {where} has unknown keys {sorted(unknown)}; use 'choice' and 'confidence'.")
        choice = value.get("choice")
        if not isinstance(choice, str) or choice.strip().lower() not in CHOICES:
            raise AnswerError(f"The {where} must choose 'real' or 'synthetic'; got {choice!r}.")
        confidence = value.get("confidence")
        if confidence is None:
            if self.confidence and self.required:
                raise AnswerError(f"The {where} needs a confidence from {CONFIDENCE_MIN} (guessing) "
                                  f"to {CONFIDENCE_MAX} (certain).")
        else:
            if not self.confidence:
                raise AnswerError(f"The {where} gives a confidence, but this study does not ask for one.")
            level = _as_int(confidence)
            if level is None or not CONFIDENCE_MIN <= level <= CONFIDENCE_MAX:
                raise AnswerError(f"The confidence in the {where} must be a whole number from "
                                  f"{CONFIDENCE_MIN} to {CONFIDENCE_MAX}; got {confidence!r}.")
            confidence = level
        return {"choice": choice.strip().lower(), "confidence": confidence}

    def _normalise_points(self, value: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(value, (list, tuple)):
            raise AnswerError(f"The {where} must be a list of points like "
                              "{'lps_mm': [x, y, z], 'note': '...'}; got " f"{type(value).__name__}.")
        if self.max_points is not None and len(value) > self.max_points:
            raise AnswerError(f"The {where} has {len(value)} points; at most {self.max_points} are allowed.")
        points = []
        for index, point in enumerate(value):
            if not isinstance(point, Mapping) or len({"lps_mm", "ras_mm"} & set(point)) != 1:
                raise AnswerError(f"Point {index} of the {where} must be a mapping with exactly one of "
                                  "'lps_mm' or 'ras_mm' ([x, y, z] in millimetres) and an optional 'note'.")
            unknown = set(point) - {"lps_mm", "ras_mm", "note"}
            if unknown:
                raise AnswerError(f"Point {index} of the {where} has unknown keys {sorted(unknown)}.")
            frame = "lps_mm" if "lps_mm" in point else "ras_mm"
            coords = point[frame]
            if (not isinstance(coords, (list, tuple)) or len(coords) != 3
                    or not all(_is_finite_number(c) for c in coords)):
                raise AnswerError(f"Point {index} of the {where}: '{frame}' must be three finite numbers "
                                  f"(millimetres); got {coords!r}.")
            lps = [float(c) for c in coords]
            if frame == "ras_mm":  # RAS -> LPS: flip the first two axes
                lps = [-lps[0], -lps[1], lps[2]]
            note = point.get("note", "")
            if not isinstance(note, str):
                raise AnswerError(f"Point {index} of the {where}: 'note' must be text.")
            points.append({"lps_mm": lps, "note": note})
        return points


def parse_question(data: Any, where: str, problems: list[str]) -> Question | None:
    """Build a :class:`Question` from its study-file form, appending any problem to ``problems``.

    Problems are collected (not raised) so a study file's every mistake is reported at once.
    """
    if not isinstance(data, Mapping):
        problems.append(f"{where} must be a mapping with at least 'id' and 'type'.")
        return None
    before = len(problems)
    allowed = {"id", "type", "text", "required", "confidence", "min", "max", "labels", "max_points"}
    for key in sorted(set(data) - allowed):
        problems.append(f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(allowed))}).")
    question_id = data.get("id")
    if not isinstance(question_id, str) or not _ID_PATTERN.match(question_id):
        problems.append(f"{where}: 'id' must be a short name of letters, digits and '_' starting with a "
                        f"letter (e.g. 'realism'); got {question_id!r}.")
        question_id = str(question_id)
    raw_kind = data.get("type")
    kind = QUESTION_TYPE_ALIASES.get(raw_kind, raw_kind) if isinstance(raw_kind, str) else raw_kind
    if kind not in QUESTION_TYPES:
        problems.append(f"{where} (id '{question_id}'): unknown question type {raw_kind!r}; use one of "
                        f"{', '.join(QUESTION_TYPES)}.")
        return None
    text = data.get("text", _DEFAULT_TEXT[kind])
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where} (id '{question_id}'): 'text' must be non-empty text.")
    required = data.get("required", kind in (REAL_OR_SYNTHETIC, LIKERT))
    if not isinstance(required, bool):
        problems.append(f"{where} (id '{question_id}'): 'required' must be true or false.")
    kwargs: dict[str, Any] = {}
    if kind == REAL_OR_SYNTHETIC:
        confidence = data.get("confidence", True)
        if not isinstance(confidence, bool):
            problems.append(f"{where} (id '{question_id}'): 'confidence' must be true or false.")
        kwargs["confidence"] = bool(confidence)
    elif kind == LIKERT:
        low, high = _as_int(data.get("min", 1)), _as_int(data.get("max", 5))
        if low is None or high is None or high - low < 1:
            problems.append(f"{where} (id '{question_id}'): 'min' and 'max' must be whole numbers with "
                            f"min < max (a Likert scale such as 1 to 5); got {data.get('min')!r}, {data.get('max')!r}.")
            low, high = 1, 5
        kwargs.update(scale_min=low, scale_max=high, labels=_parse_labels(data.get("labels"), low, high,
                                                                         where, question_id, problems))
    elif kind == POINT_MARKS and "max_points" in data:
        max_points = _as_int(data["max_points"])
        if max_points is None or max_points < 1:
            problems.append(f"{where} (id '{question_id}'): 'max_points' must be a whole number >= 1.")
        kwargs["max_points"] = max_points
    for key in ("confidence", "min", "max", "labels", "max_points"):
        if key in data and key not in _KEYS_BY_KIND[kind]:
            problems.append(f"{where} (id '{question_id}'): '{key}' does not apply to a {kind} question.")
    if len(problems) > before:
        return None
    return Question(question_id=question_id, kind=kind, text=text.strip(), required=required, **kwargs)


def question_from_dict(data: Mapping[str, Any]) -> Question:
    """Rebuild a question stored by :meth:`Question.to_dict` (e.g. in a session database)."""
    problems: list[str] = []
    question = parse_question(data, "stored question", problems)
    if question is None:
        raise AnswerError("A stored question is invalid: " + "; ".join(problems))
    return question


def default_questions() -> tuple[Question, ...]:
    """The usual set: real/synthetic with confidence, realism 1–5, comments, artefact marks."""
    return (
        Question("call", REAL_OR_SYNTHETIC, _DEFAULT_TEXT[REAL_OR_SYNTHETIC], required=True, confidence=True),
        Question("realism", LIKERT, _DEFAULT_TEXT[LIKERT], required=True,
                 labels=((1, "clearly artificial"), (5, "indistinguishable from real"))),
        Question("comments", FREE_TEXT, _DEFAULT_TEXT[FREE_TEXT], required=False),
        Question("artefacts", POINT_MARKS, _DEFAULT_TEXT[POINT_MARKS], required=False),
    )


def normalise_answers(questions: tuple[Question, ...], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check a reader's answers to one case against the study's questions; return the stored form.

    Unknown question ids and missing required answers raise :class:`AnswerError`; an optional
    question left unanswered (absent or ``None``) is simply not stored.
    """
    if not isinstance(answers, Mapping):
        raise AnswerError(f"Answers must be a mapping from question id to answer; got {type(answers).__name__}.")
    by_id = {q.question_id: q for q in questions}
    unknown = [key for key in answers if key not in by_id]
    if unknown:
        raise AnswerError(f"Unknown question id(s) {unknown}; this study asks: {', '.join(by_id)}.")
    stored: dict[str, Any] = {}
    for question in questions:
        value = answers.get(question.question_id)
        blank_text = question.kind == FREE_TEXT and isinstance(value, str) and not value.strip()
        if value is None or blank_text:
            if question.required:
                raise AnswerError(f"Question '{question.question_id}' ({question.text}) needs an answer.")
            continue
        stored[question.question_id] = question.normalise_answer(value)
    return stored


_KEYS_BY_KIND = {REAL_OR_SYNTHETIC: {"confidence"}, LIKERT: {"min", "max", "labels"}, FREE_TEXT: set(),
                 POINT_MARKS: {"max_points"}}


def _parse_labels(raw: Any, low: int, high: int, where: str, question_id: str,
                  problems: list[str]) -> tuple[tuple[int, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        problems.append(f"{where} (id '{question_id}'): 'labels' must map ratings to words, e.g. {{1: 'poor'}}.")
        return ()
    labels = []
    for key, text in raw.items():
        rating = _as_int(key)
        if rating is None or not low <= rating <= high or not isinstance(text, str):
            problems.append(f"{where} (id '{question_id}'): label {key!r}: {text!r} must be a rating from "
                            f"{low} to {high} mapped to text.")
            continue
        labels.append((rating, text))
    return tuple(sorted(labels))


def _as_int(value: Any) -> int | None:
    """An integer from an int or a digit string (YAML/JSON keys); ``None`` for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

"""Errors raised by reading sessions, each with a message that says what to do next."""

from __future__ import annotations

from medsynth.errors import InputError, MedSynthError


class StudyError(InputError):
    """A study definition file (YAML or JSON) cannot be used: syntax, missing image, bad question..."""


class AnswerError(InputError):
    """An answer does not fit its question (unknown question, value out of range, missing required)."""


class SessionError(MedSynthError):
    """The reading session cannot do what was asked: unknown reader, revisiting not allowed,
    a missing or damaged session database, a truth key that belongs to another session."""

"""Exceptions with messages that tell a clinician or a scripter what to do next."""


class MedSynthError(Exception):
    """Base class of every error MedSynth raises on purpose."""


class InputError(MedSynthError):
    """An input image or argument cannot be used (wrong kind, corrupt, outside the model's domain)."""


class ModelError(MedSynthError):
    """A model or its card is missing, invalid, tampered with, or contradicts itself."""


class Cancelled(MedSynthError):
    """The user cancelled a running job; partial results were discarded."""

"""Model cards, their validation, weight integrity and the registry of installed models."""

from medsynth.models.card import CARD_FILE_NAME, Condition, ModelCard, Output, load_card, parse_card
from medsynth.models.integrity import sha256_of, verify_sha256
from medsynth.models.registry import ModelEntry, ModelRegistry, user_models_dir

__all__ = [
    "CARD_FILE_NAME",
    "Condition",
    "ModelCard",
    "ModelEntry",
    "ModelRegistry",
    "Output",
    "load_card",
    "parse_card",
    "sha256_of",
    "user_models_dir",
    "verify_sha256",
]

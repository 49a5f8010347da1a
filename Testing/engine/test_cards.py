"""Model cards: the built-in cards are valid; every kind of broken card is refused with its reason."""

import copy
import json

import jsonschema
import pytest

from medsynth.errors import ModelError
from medsynth.models import load_card, parse_card
from medsynth.models.card import card_schema
from medsynth.models.registry import BUILTIN_MODELS_DIR
from medsynth.models.schema import schema_errors
from model_factory import BASE_CARD


def _card(**changes):
    card = copy.deepcopy(BASE_CARD)
    card["weights"]["sha256"] = "a" * 64
    for dotted, value in changes.items():
        target = card
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return card


_DELETE = object()

BROKEN_CARDS = {
    "missing id": (_card(id=_DELETE), "missing required field 'id'"),
    "bad version": (_card(version="one"), "version"),
    "unknown task": (_card(task="segmentation"), "task"),
    "short sha256": (_card(weights__sha256="abc"), "sha256"),
    "weights path escapes folder": (_card(weights__file="../x.onnx"), "file"),
    "unknown field": (_card(colour="blue"), "unknown field 'colour'"),
    "negative spacing": (_card(input__spacing_mm=[1, -1, 1]), "spacing_mm"),
    "two-value patch": (_card(inference__patch_size=[16, 16]), "patch_size"),
    "overlap of 1": (_card(inference__overlap=1.0), "overlap"),
    "no outputs": (_card(outputs=[]), "outputs"),
    "bad orientation": (_card(input__orientation="XYZ"), "orientation"),
    "unknown normalisation": (_card(input__normalization={"scheme": "magic"}), "scheme"),
    "no limitations": (_card(limitations=[]), "limitations"),
    "string as number": (_card(inference__overlap="0.5"), "overlap"),
}

MEANINGLESS_CARDS = {
    "inverted percentiles": (_card(input__normalization={"scheme": "percentile", "lower_percentile": 99,
                                                         "upper_percentile": 1}), "lower_percentile"),
    "inverted clip": (_card(outputs=[{"name": "out", "clip": [10, -10]}]), "clip"),
    "number without range": (_card(conditioning=[{"name": "age", "kind": "number"}]), "range"),
    "category without categories": (_card(conditioning=[{"name": "dx", "kind": "category"}]), "categories"),
    "duplicate outputs": (_card(outputs=[{"name": "a"}, {"name": "a"}]), "unique"),
}


def test_builtin_cards_are_valid():
    cards = [load_card(path) for path in BUILTIN_MODELS_DIR.glob("*/card.json")]
    assert cards, "no built-in model found"
    for card in cards:
        assert card.intended_use and card.limitations and card.license


def test_base_card_is_valid():
    card = parse_card(_card())
    assert card.inference.patch_size == (16, 16, 16)
    assert card.spacing_mm is None


@pytest.mark.parametrize("name", sorted(BROKEN_CARDS))
def test_schema_violations_are_refused_with_the_reason(name):
    card, reason = BROKEN_CARDS[name]
    with pytest.raises(ModelError, match=reason):
        parse_card(card, source="my-card.json")


@pytest.mark.parametrize("name", sorted(MEANINGLESS_CARDS))
def test_cards_that_contradict_themselves_are_refused(name):
    card, reason = MEANINGLESS_CARDS[name]
    with pytest.raises(ModelError, match=reason):
        parse_card(card)


@pytest.mark.parametrize("name", sorted(BROKEN_CARDS) + ["valid"])
def test_engine_validator_agrees_with_reference_jsonschema(name):
    card = BROKEN_CARDS[name][0] if name != "valid" else _card()
    reference_valid = jsonschema.Draft202012Validator(card_schema()).is_valid(card)
    assert reference_valid == (schema_errors(card, card_schema()) == [])


def test_error_names_the_card_file(tmp_path):
    path = tmp_path / "card.json"
    path.write_text(json.dumps(_card(task="nope")))
    with pytest.raises(ModelError, match=str(path)):
        load_card(path)


def test_card_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "card.json"
    path.write_text("{ not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_card(path)

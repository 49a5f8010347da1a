"""The evidence: the built-in model against the simple baselines on held-out real data.

Both sides are recomputed here with the same evaluation code (no numbers copied from a run), and
the card must report the same figures the evaluation gives: on the template pair the model's MAE
beats every simple baseline (the best constant included), and on head_mr_skull its bone overlaps
the skull mask better than both MR-classification baselines.
"""

from __future__ import annotations

import pytest

from medsynth.tasks.synthct import synth_ct
from medsynth.training.synthct import validation
from medsynth.training.synthct.pipeline import PARITY_TOLERANCE_HU


@pytest.fixture(scope="module")
def synthesize(builtin_entry):
    return lambda mr: synth_ct(mr, builtin_entry).ct


@pytest.fixture(scope="module")
def template_pair(synthesize, shared_data):
    return validation.evaluate_template_pair(synthesize, shared_data)


@pytest.fixture(scope="module")
def skull(synthesize, shared_data):
    return validation.evaluate_skull(synthesize, shared_data)


def test_template_pair_model_beats_every_baseline_and_matches_its_card(template_pair, builtin_entry):
    result = template_pair
    assert result.mae_model < result.mae_best_constant
    assert result.mae_model < result.mae_bulk_density
    assert result.mae_model < result.mae_probability_weighted
    card = builtin_entry.card.raw["validation"]["metrics"]["template_pair_mae_hu"]
    assert card["model"] == pytest.approx(result.mae_model, abs=0.1)
    assert card["best_constant"] == pytest.approx(result.mae_best_constant, abs=0.1)
    assert card["bulk_density"] == pytest.approx(result.mae_bulk_density, abs=0.1)


@pytest.mark.slow
def test_head_mr_skull_bone_dice_beats_the_classification_baselines_and_matches_its_card(skull, builtin_entry):
    result = skull
    assert result.dice_model > max(result.dice_bulk_density, result.dice_probability_weighted)
    card = builtin_entry.card.raw["validation"]["metrics"]["head_mr_skull_bone_dice"]
    assert card["model"] == pytest.approx(result.dice_model, abs=0.002)
    assert card["bulk_density"] == pytest.approx(result.dice_bulk_density, abs=0.002)
    assert card["probability_weighted"] == pytest.approx(result.dice_probability_weighted, abs=0.002)


def test_card_states_use_data_and_parity(builtin_entry):
    card = builtin_entry.card
    assert "not for clinical use" in card.intended_use.lower()
    assert "python -m medsynth.training.synthct.builtin" in card.raw["training"]["command"]
    assert "GPL-2.0" in card.license and "CC BY-SA 3.0" in card.license
    tolerance = card.raw["validation"]["metrics"].get("parity_tolerance_hu", PARITY_TOLERANCE_HU)
    assert card.raw["validation"]["parity_max_abs_diff"] <= tolerance <= PARITY_TOLERANCE_HU
    weights = builtin_entry.weights_path
    assert weights.stat().st_size < 5_000_000

"""The evidence: the built-in model against the simple baselines on held-out real data.

Both sides are recomputed here with the same evaluation code (no numbers copied from a run), and
the card must report the same figures the evaluation gives. What the current built-in model
achieves is asserted as such (it beats bulk density and probability-weighted on the template
pair); what issue 3 asks for and it does NOT yet achieve (beating the best constant; a bone Dice
above the classification baselines) is kept as strict expected failures, so they turn into
errors the day a model meets them and the markers must go.
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


@pytest.mark.xfail(strict=True, reason="open (issue 3): the phantom-trained model does not yet beat the best constant")
def test_template_pair_model_beats_the_best_constant(template_pair):
    assert template_pair.mae_model < template_pair.mae_best_constant


@pytest.mark.xfail(strict=True, reason="open (issue 3): bone Dice not yet above the MR-classification baselines")
def test_head_mr_skull_bone_dice_beats_the_classification_baselines(skull):
    assert skull.dice_model > max(skull.dice_bulk_density, skull.dice_probability_weighted)


def test_template_pair_model_beats_the_tissue_baselines_and_matches_its_card(template_pair, builtin_entry):
    result = template_pair
    assert result.mae_model < result.mae_bulk_density
    assert result.mae_model < result.mae_probability_weighted
    card = builtin_entry.card.raw["validation"]["metrics"]["template_pair_mae_hu"]
    assert card["model"] == pytest.approx(result.mae_model, abs=0.1)
    assert card["best_constant"] == pytest.approx(result.mae_best_constant, abs=0.1)
    assert card["bulk_density"] == pytest.approx(result.mae_bulk_density, abs=0.1)


@pytest.mark.slow
def test_head_mr_skull_card_reports_the_measured_dice(skull, builtin_entry):
    result = skull
    card = builtin_entry.card.raw["validation"]["metrics"]["head_mr_skull_bone_dice"]
    assert card["model"] == pytest.approx(result.dice_model, abs=0.002)
    assert card["bulk_density"] == pytest.approx(result.dice_bulk_density, abs=0.02)


def test_card_states_use_data_and_parity(builtin_entry):
    card = builtin_entry.card
    assert "not for clinical use" in card.intended_use.lower()
    assert "python -m medsynth.training.synthct.builtin" in card.raw["training"]["command"]
    assert "GPL-2.0" in card.license and "CC BY-SA 3.0" in card.license
    tolerance = card.raw["validation"]["metrics"].get("parity_tolerance_hu", PARITY_TOLERANCE_HU)
    assert card.raw["validation"]["parity_max_abs_diff"] <= tolerance <= PARITY_TOLERANCE_HU
    weights = builtin_entry.weights_path
    assert weights.stat().st_size < 5_000_000

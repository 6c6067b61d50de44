"""The ablation ladder: rows differ by exactly the change they name, rung 0 is seed-asker, every row trains."""

from dataclasses import asdict

import pytest

from baselines.asker_ladder import ASKER, CHANGES, FIXED, LADDER, LEAVE_ONE_OUT, RUNGS, model_for
from baselines.signomial import Recipe
from bench.protocol import evaluate
from bench.registry import MODELS
from bench.targets import load_targets
from bench.train import TrainConfig

SEED = load_targets()["seed"]
BUDGET = TrainConfig(steps=30, eval_every=10, val_size=500, test_size=1000)


def differences(a, b):
    return {field for field, value in asdict(a).items() if asdict(b)[field] != value}


def test_rung_zero_is_the_posted_recipe_and_each_rung_adds_exactly_its_change():
    names, recipes = list(RUNGS), list(RUNGS.values())
    assert names[0] == "seed-asker" and recipes[0] == Recipe() == ASKER and recipes[-1] == FIXED
    assert len(recipes) == len(CHANGES) + 1
    for k, change in enumerate(CHANGES, 1):
        assert names[k] == f"asker-{k}-{change.name}"
        assert differences(recipes[k - 1], recipes[k]) == {change.field}
        assert getattr(recipes[k], change.field) == change.value != getattr(ASKER, change.field)


def test_each_leave_one_out_row_is_the_fixed_recipe_without_exactly_its_change():
    assert list(LEAVE_ONE_OUT) == [c.name for c in CHANGES]
    for change in CHANGES:
        recipe = LEAVE_ONE_OUT[change.name]
        assert differences(FIXED, recipe) == {change.field}
        assert getattr(recipe, change.field) == getattr(ASKER, change.field)
        assert LADDER[model_for(recipe)] == recipe
    assert model_for(LEAVE_ONE_OUT[CHANGES[-1].name]) == list(RUNGS)[-2]  # the rung before the last


def test_every_row_is_a_model_whose_settings_hold_its_whole_recipe():
    for name, recipe in LADDER.items():
        if name == "seed-asker":
            continue
        settings = MODELS[name].settings(BUDGET, None)
        assert Recipe.from_settings(settings) == recipe and MODELS[name].needs_scale == (recipe.target_space == "raw")
        assert not set(asdict(recipe)) & set(TrainConfig.field_names())  # no clash with --set keys in reports


def test_the_ladder_trainer_on_rung_zero_reproduces_seed_asker_exactly():
    cells = [("raw", "none")]
    settings = MODELS["seed-asker"].settings(BUDGET, 2000)
    [posted] = evaluate("seed-asker", SEED, 0, cells, settings, "cpu")
    [rung] = evaluate("asker-1-standardized-log", SEED, 0, cells, settings | asdict(ASKER), "cpu")  # rung 0's recipe
    assert [p["median_rel_err"] for p in rung["curve"]] == [p["median_rel_err"] for p in posted["curve"]]
    assert rung["metrics"] == posted["metrics"] and rung["val_error"] == posted["val_error"]


@pytest.mark.parametrize("name", ["asker-5-lbfgs-polish", "fixed-without-standardized-log"])
def test_polished_rows_train_and_add_the_polish_to_their_curve(name):
    settings = MODELS[name].settings(BUDGET, 2000) | {"polish_iters": 20}
    [result] = evaluate(name, SEED, 0, [("raw", "none")], settings, "cpu")
    assert result["status"] == "ok" and [p["step"] for p in result["curve"][:3]] == [10, 20, 30]
    assert len(result["curve"]) == 4 and result["curve"][-1]["step"] > 30
    assert result["val_error"] <= result["curve"][-2]["val_error"]

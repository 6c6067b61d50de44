"""The suite's leaderboard (bench.report.leaderboard) on a planted per-equation frame: one row per method, the
best fixed pipeline picked on validation (or the fixed reference where there is one), symbolic rates only for
models that return a formula, the recipe's seconds summed over its runs, and its place in a sentence."""

import numpy as np
import pandas as pd
import pytest

from bench.report.leaderboard import RECIPE_LABEL, best_fixed_pipeline, leaderboard, place_sentence


def planted(with_fixed_reference=False):
    """Four equations. `mlp log` validates best and tests worse than `mlp raw`; LightGBM; a candidate; Operon (an
    other method with formulas) on every equation; the signomial on two."""
    rows = []
    for i, target in enumerate("abcd"):
        def add(pipeline, model, role, val, r2, err, symbolic=None, seconds=1.0, target=target):
            rows.append({"target": target, "seed": 0, "difficulty": "easy", "pipeline": pipeline, "model": model,
                         "role": role, "key": f"{target}-{pipeline}", "val_error": val, "r2": r2,
                         "median_rel_err": err, "symbolic_solution": symbolic, "seconds": seconds,
                         "device": "cpu (1 threads)", "chosen": False})
        add("mlp log→asinh", "mlp", "reference", 0.01, 0.99, 1e-2)
        add("mlp raw→none", "mlp", "reference", 0.02, 0.9999, 1e-4)
        add("candidate mlp log→asinh + 250 L-BFGS", "mlp", "candidate", 0.001, 0.99999, 1e-4, seconds=3.0)
        add("lightgbm raw→asinh", "lightgbm", "reference", 0.05, 0.999 if i else 0.9995, 1e-2)
        add("operon raw→none", "operon", "other method", 1e-9, 1.0 if i < 2 else 0.5, 1e-9 if i < 2 else 0.2,
            symbolic=i < 2)
        if with_fixed_reference:
            add("mlp edges+log→asinh + 2,000 L-BFGS", "mlp", "fixed reference", 0.005, 0.9995, 1e-4)
        if i < 2:
            add("signomial raw→none", "signomial", "reference", 1e-10, 1.0, 1e-12, symbolic=i == 0)
    frame = pd.DataFrame(rows)
    eligible = frame[frame["role"].isin(["reference", "candidate", "finalist"])]
    frame.loc[eligible.sort_values("val_error").groupby("target").head(1).index, "chosen"] = True
    everything = pd.concat([frame, frame[frame["chosen"]].assign(pipeline=RECIPE_LABEL, role="recipe")],
                           ignore_index=True)
    return frame, everything


def test_the_best_fixed_pipeline_is_picked_on_validation_or_is_the_fixed_reference():
    frame, _ = planted()
    assert best_fixed_pipeline(frame)[0] == "mlp log→asinh"  # better validation, worse test than mlp raw→none
    frame, _ = planted(with_fixed_reference=True)
    assert best_fixed_pipeline(frame) == ("mlp edges+log→asinh + 2,000 L-BFGS",
                                          "the fixed reference, polished as long as a finalist")


def test_one_row_per_method_with_rates_symbolic_solutions_and_seconds():
    frame, everything = planted()
    board = leaderboard(everything, frame, "mlp log→asinh").set_index("pipeline")
    assert list(board.index) == [RECIPE_LABEL, "operon raw→none", "lightgbm raw→asinh", "mlp log→asinh",
                                 "signomial raw→none"]
    assert board.loc[RECIPE_LABEL, ["R² > 0.999 hits", "≤ 1e-5 hits", "rank"]].tolist() == [4, 2, 1]
    assert board.loc["lightgbm raw→asinh", "R² > 0.999 hits"] == 1  # 0.999 itself is not above the bar
    assert np.isnan(board.loc["lightgbm raw→asinh", "symbolic runs"])  # returns no formula: empty, not 0
    assert board.loc["operon raw→none", ["symbolic hits", "symbolic runs"]].tolist() == [2, 4]
    assert board.loc[RECIPE_LABEL, ["symbolic hits", "symbolic runs"]].tolist() == [1, 4]  # a, the signomial's
    assert board.loc[RECIPE_LABEL, "median seconds per equation"] == pytest.approx(6.5)  # its runs: 7 s on a, b; 6 on c, d
    assert pd.isna(board.loc["signomial raw→none", "rank"]) and board.loc["signomial raw→none", "runs"] == 2
    assert board.loc["mlp log→asinh", "method"] == "its best single fixed pipeline"
    sentence = place_sentence(board.reset_index())
    assert sentence.startswith("On the leaderboard (seed(s) 0, those every method ran) the recipe ranks 1st of 4 "
                               "methods run on every equation")
    assert "the best other method, operon raw→none, 50%" in sentence


def test_a_method_run_on_fewer_seeds_puts_the_leaderboard_on_the_seeds_every_method_ran():
    frame, everything = planted()
    again = frame[frame["model"] != "operon"].assign(seed=1, r2=0.5)  # seed 1: every method but Operon, all unsolved
    frame = pd.concat([frame, again], ignore_index=True)
    everything = pd.concat([everything, again, again[again["chosen"]].assign(pipeline=RECIPE_LABEL, role="recipe")],
                           ignore_index=True)
    board = leaderboard(everything, frame, "mlp log→asinh").set_index("pipeline")
    assert set(board["seeds"]) == {"0"} and set(board["of"]) == {4}
    assert board.loc[RECIPE_LABEL, ["runs", "R² > 0.999 hits", "rank"]].tolist() == [4, 4, 1]  # seed 0's rows only

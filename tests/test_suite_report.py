"""The suite's aggregate verdicts (bench.report.suite) on a small planted frame: solve counts and intervals,
the order of the solve-rate table, wins, and which pipelines the rank statistics compare."""

import numpy as np
import pandas as pd
import pytest

from bench.report.suite import error_matrix, headline, solve_rates, wins, with_recipe


def planted(finalist_everywhere=False):
    """Three equations: `full` runs on all (solves 1), `fails` on all (a failure counts as -inf R², +inf
    error), `finalist` (a finalist's runs) on one (solves it), or on all."""
    rows = []
    for target, difficulty in (("a", "easy"), ("b", "easy"), ("c", "hard")):
        rows.append({"target": target, "difficulty": difficulty, "seed": 0, "pipeline": "full",
                     "r2": 0.9995 if target == "a" else 0.9, "median_rel_err": 0.01, "finalist": False})
        rows.append({"target": target, "difficulty": difficulty, "seed": 0, "pipeline": "fails",
                     "r2": -np.inf, "median_rel_err": np.inf, "finalist": False})
        if finalist_everywhere or target == "b":
            rows.append({"target": target, "difficulty": difficulty, "seed": 0, "pipeline": "finalist",
                         "r2": 0.99999, "median_rel_err": 0.001, "finalist": True})
    return pd.DataFrame(rows)


def test_solve_rates_count_intervals_and_put_complete_pipelines_first():
    rates = solve_rates(planted())
    overall = rates[rates["difficulty"] == "all"]
    assert overall["pipeline"].tolist() == ["full", "fails", "finalist"]  # 1/3 and 0/3 before 1/1
    full = overall.set_index("pipeline").loc["full"]
    assert (full["solved"], full["runs"]) == (1, 3)
    assert full["ci_low"] == pytest.approx(0.0615, abs=1e-3) and full["ci_high"] == pytest.approx(0.7923, abs=1e-3)
    easy = rates[(rates["difficulty"] == "easy") & (rates["pipeline"] == "full")].iloc[0]
    assert (easy["solved"], easy["runs"]) == (1, 2)


@pytest.mark.parametrize("finalist_everywhere", [False, True])
def test_rank_statistics_compare_only_fixed_pipelines_run_on_every_equation(finalist_everywhere):
    matrix = error_matrix(planted(finalist_everywhere))  # a finalist is picked per equation: never a fixed pipeline
    assert list(matrix.columns) == ["fails", "full"]
    assert wins(matrix) == {"fails": [], "full": ["a", "b", "c"]}


def test_the_headline_never_calls_a_finalist_a_reference():
    frame = planted(finalist_everywhere=True).assign(suite="s")
    frame["chosen"] = frame["finalist"]
    sentence = headline(solve_rates(with_recipe(frame)), frame, "cpu")
    assert "**3 of 3**" in sentence and "the best single reference pipeline, full, on 1 (33%)" in sentence

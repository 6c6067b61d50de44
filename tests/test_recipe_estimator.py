"""`bench.RecipeRegressor`: the suite's recipe as a scikit-learn regressor: the run chosen on validation, its
leaderboard, determinism, bad input, and scikit-learn's estimator checks (at a budget shrunk for tests)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import bench
from bench.metrics import regression_metrics, validation_error
from bench.suite import Budget
from bench.targets import load_targets

# The quick budget shrunk so that scikit-learn's checks (dozens of fits) stay cheap, the signomial left out (reading
# a formula back dominates a fit this small); users pass "quick" or "default".
TINY = Budget(steps=30, lbfgs_iters=3, finalist_lbfgs_iters=6, train_size=5000, val_size=2000, test_size=2000,
              trees=20, signomial_steps=0)
SMALL = Budget(steps=150, lbfgs_iters=20, finalist_lbfgs_iters=60, train_size=5000, val_size=2000, test_size=2000,
               trees=100, signomial_steps=10)
EXPECTED_FAILURES = {
    "check_methods_subset_invariance": "the chosen mlp's batched matmuls round differently for other row counts: "
                                       "predictions on a subset agree with the full batch's to about 1e-6, not 1e-7",
    "check_methods_sample_order_invariance": "as check_methods_subset_invariance: rows in another order round "
                                             "differently in the batched matmuls, to about 1e-6",
}


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="module")
def seed_rows():
    X, y, _ = load_targets()["seed"].sample(900, seed=3)
    return pd.DataFrame(X.numpy(), columns=["x1", "x2", "x3", "x4", "x5"]), y.numpy()


def test_it_keeps_the_run_with_the_lowest_validation_error(seed_rows):
    X, y = seed_rows
    model = bench.RecipeRegressor(budget=SMALL, random_state=1).fit(X[:700], y[:700], X[700:800], y[700:800])
    board = model.leaderboard_
    assert list(board.columns) == ["pipeline", "seed", "val_error", "val_median_rel_err", "seconds", "status", "chosen"]
    assert set(board.seed) == {1} and board.chosen.tolist() == [True] + [False] * (len(board) - 1)
    assert board.val_error.is_monotonic_increasing and model.best_ == board.pipeline[0]
    assert {p.split()[0] for p in board.pipeline} == {"mlp", "lightgbm", "signomial"}
    assert validation_error(model.predict(X[700:800]), y[700:800]) == pytest.approx(board.val_error[0], rel=1e-12)
    assert regression_metrics(model.predict(X[800:]), y[800:])["median_rel_err"] < 0.5  # better than a constant
    assert model.feature_names_in_.tolist() == list(X.columns)


def test_the_same_random_state_gives_the_same_model_another_one_another(seed_rows):
    X, y = (a[:300] for a in seed_rows)
    first = bench.RecipeRegressor(budget=TINY, random_state=4).fit(X, y)
    again = clone(first).fit(X, y)
    other = bench.RecipeRegressor(budget=TINY, random_state=5).fit(X, y)
    assert np.array_equal(first.predict(X), again.predict(X))
    assert not np.array_equal(first.predict(X), other.predict(X))


@pytest.mark.parametrize("params, y, message", [
    ({"budget": "huge"}, None, "budget='huge': choose 'quick' or 'default'"),
    ({"random_state": None}, None, "random_state=None: give a whole number"),
    ({}, "constant", "y is constant"),
])
def test_bad_parameters_and_a_constant_target_are_refused(seed_rows, params, y, message):
    X, target = (a[:40] for a in seed_rows)
    with pytest.raises(ValueError, match=message.replace("(", "\\(")):
        bench.RecipeRegressor(**params).fit(X, np.full(40, 3.0) if y == "constant" else target)


@parametrize_with_checks([bench.RecipeRegressor(budget=TINY)], expected_failed_checks=lambda estimator: EXPECTED_FAILURES)
def test_the_estimator_passes_scikit_learn_s_checks(estimator, check):
    check(estimator)
